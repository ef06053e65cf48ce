//! Unit tests of the subscriber queue: bounds, the grace, `Lagged`, wakes, release.

use super::super::testing::*;
use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

struct CountingWaker(AtomicUsize);

impl futures::task::ArcWake for CountingWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn items_come_out_in_the_order_they_were_pushed_in_one_batch() {
    let q = queue(16, 1 << 20);
    let mut wakes = Wakes::default();
    let (a, b) = (delta("a"), delta("b"));
    for offer in [
        Offer::Notification(&a),
        Offer::Lagged(2),
        Offer::Notification(&b),
    ] {
        assert!(q.push(offer, OnFull::Refuse, &mut wakes).is_ok());
    }
    assert!(!wakes.must_wait());
    assert_eq!(take_all(&q).unwrap(), ["a", "lagged 2", "b"]);
    assert!(
        matches!(take_all(&q), Err(Take::Pending)),
        "the batch was taken whole"
    );
}

#[test]
fn the_item_bound_refuses_waits_or_forces_as_asked() {
    let q = queue(2, 1 << 20);
    let mut wakes = Wakes::default();
    let events: Vec<_> = ["1", "2", "3", "4", "5"].map(delta).into_iter().collect();
    assert!(
        q.push(Offer::Notification(&events[0]), OnFull::Refuse, &mut wakes)
            .is_ok()
    );
    assert!(
        q.push(Offer::Notification(&events[1]), OnFull::Refuse, &mut wakes)
            .is_ok()
    );
    assert!(matches!(
        q.push(Offer::Notification(&events[2]), OnFull::Refuse, &mut wakes),
        Err(PushError::Full(Offer::Notification(_)))
    ));
    assert!(!wakes.must_wait(), "a refused push asks nobody to wait");
    // Waiting: queued past the bound, the reader asked to wait (once per queue).
    assert!(
        q.push(Offer::Notification(&events[3]), OnFull::Wait, &mut wakes)
            .is_ok()
    );
    assert!(
        q.push(Offer::Notification(&events[4]), OnFull::Wait, &mut wakes)
            .is_ok()
    );
    assert!(wakes.must_wait());
    assert_eq!(wakes.full.len(), 1);
    assert!(q.push(Offer::Lagged(9), OnFull::Force, &mut wakes).is_ok());
    assert_eq!(take_all(&q).unwrap(), ["1", "2", "4", "5", "lagged 9"]);
}

#[test]
fn the_byte_bound_counts_line_bytes_and_an_empty_queue_takes_any_line() {
    let one = delta("x").line_len();
    let q = queue(100, 2 * one);
    let mut wakes = Wakes::default();
    let (a, b, c) = (delta("a"), delta("b"), delta("c"));
    assert!(
        q.push(Offer::Notification(&a), OnFull::Refuse, &mut wakes)
            .is_ok()
    );
    assert!(
        q.push(Offer::Notification(&b), OnFull::Refuse, &mut wakes)
            .is_ok()
    );
    assert!(
        q.push(Offer::Notification(&c), OnFull::Refuse, &mut wakes)
            .is_err(),
        "two lines fill {} bytes",
        2 * one
    );
    // Gaps and requests cost no bytes.
    assert!(q.push(Offer::Lagged(1), OnFull::Refuse, &mut wakes).is_ok());
    assert_eq!(take_all(&q).unwrap(), ["a", "b", "lagged 1"]);
    let long = delta(&"y".repeat(4 * one));
    assert!(
        q.push(Offer::Notification(&long), OnFull::Refuse, &mut wakes)
            .is_ok(),
        "an empty queue takes a line longer than its byte bound"
    );
    assert!(
        q.push(Offer::Notification(&a), OnFull::Refuse, &mut wakes)
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn a_consumer_that_takes_within_the_grace_loses_nothing() {
    let q = queue(2, 1 << 20);
    let mut s = sub(&q, OnFull::Wait);
    let mut wakes = Wakes::default();
    let events: Vec<_> = ["1", "2", "3"].map(delta).into_iter().collect();
    for e in &events {
        assert!(!s.offer(e, &mut wakes), "queued, not dropped");
    }
    assert!(wakes.must_wait());
    let deadline = Instant::now() + Duration::from_millis(50);
    let (had_room, taken) = tokio::join!(q.wait_for_room(deadline), async {
        tokio::task::yield_now().await;
        take_all(&q).unwrap()
    });
    assert!(had_room, "the consumer made room in time");
    assert_eq!(taken, ["1", "2", "3"]);
    assert!(Instant::now() < deadline, "the reader went on at once");
}

#[tokio::test(start_paused = true)]
async fn past_the_grace_a_full_queue_drops_and_counts_then_reports_the_gap() {
    let q = queue(2, 1 << 20);
    let mut s = sub(&q, OnFull::Wait);
    let mut wakes = Wakes::default();
    let events: Vec<_> = ["1", "2", "3", "4", "5", "6"]
        .map(delta)
        .into_iter()
        .collect();
    for e in &events[..3] {
        assert!(!s.offer(e, &mut wakes));
    }
    let start = Instant::now();
    let grace = Duration::from_millis(50);
    assert!(
        !q.wait_for_room(start + grace).await,
        "nobody took anything"
    );
    assert_eq!(
        Instant::now() - start,
        grace,
        "the reader waited the grace, no more"
    );
    // Lagging: a full queue drops without asking the reader to wait.
    let mut wakes = Wakes::default();
    assert!(s.offer(&events[3], &mut wakes), "dropped");
    assert!(s.offer(&events[4], &mut wakes), "dropped");
    assert!(!wakes.must_wait());
    assert_eq!(s.missed, 2);
    assert_eq!(take_all(&q).unwrap(), ["1", "2", "3"]);
    // Caught up: the gap comes first, where the events were lost.
    assert!(!s.offer(&events[5], &mut wakes));
    assert_eq!(take_all(&q).unwrap(), ["lagged 2", "6"]);
    assert_eq!(s.missed, 0);
}

#[test]
fn a_turns_end_is_queued_on_a_full_queue_after_the_count_of_what_was_missed() {
    let q = queue(2, 1 << 20);
    let mut s = sub(&q, OnFull::Refuse);
    let mut wakes = Wakes::default();
    let events: Vec<_> = ["1", "2", "3"].map(delta).into_iter().collect();
    for e in &events {
        s.offer(e, &mut wakes);
    }
    assert_eq!(s.missed, 1);
    let end = RoutedNotification::from_line(
        r#"{"method":"turn/completed","params":{"threadId":"th","turn":{"id":"tu","items":[],"status":"completed"}}}"#,
    );
    s.offer_end(&end, &mut wakes);
    assert_eq!(
        take_all(&q).unwrap(),
        ["1", "2", "lagged 1", "turn/completed"]
    );
}

#[test]
fn a_push_wakes_the_consumer_once_per_batch_and_the_end_is_reported_in_order() {
    let q = queue(16, 1 << 20);
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = futures::task::waker(counter.clone());
    let mut local = Batch::default();
    assert!(matches!(q.take(&mut local, &waker), Take::Pending));
    let mut wakes = Wakes::default();
    let (a, b) = (delta("a"), delta("b"));
    q.push(Offer::Notification(&a), OnFull::Refuse, &mut wakes)
        .ok();
    q.push(Offer::Notification(&b), OnFull::Refuse, &mut wakes)
        .ok();
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        0,
        "woken by the reader, not the push"
    );
    wakes.wake_all();
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        1,
        "one wake for the batch"
    );
    // Ended with 3 missed and the connection's close: the items, the count, the reason.
    let info = Arc::new(ClosedInfo::new("gone"));
    assert!(matches!(q.take(&mut local, &waker), Take::Batch));
    assert!(matches!(
        q.take(describe_and_clear(&mut local), &waker),
        Take::Pending
    ));
    q.finish(3, Some(&info));
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        2,
        "the end wakes the consumer"
    );
    assert!(matches!(q.take(&mut local, &waker), Take::Missed(3)));
    assert!(matches!(q.take(&mut local, &waker), Take::Closed(i) if Arc::ptr_eq(&i, &info)));
    assert!(matches!(q.take(&mut local, &waker), Take::End));
    assert!(matches!(q.take(&mut local, &waker), Take::End));
}

fn describe_and_clear(batch: &mut Batch) -> &mut Batch {
    assert_eq!(describe(batch), ["a", "b"]);
    batch
}

#[tokio::test(start_paused = true)]
async fn a_released_queue_refuses_pushes_and_lets_a_waiting_reader_go() {
    let q = queue(2, 1 << 20);
    let mut wakes = Wakes::default();
    let events: Vec<_> = ["1", "2", "3"].map(delta).into_iter().collect();
    for e in &events {
        q.push(Offer::Notification(e), OnFull::Wait, &mut wakes)
            .ok();
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    let (had_room, left) = tokio::join!(q.wait_for_room(deadline), async {
        tokio::task::yield_now().await;
        q.release()
    });
    assert!(had_room, "a consumer that went away holds nobody up");
    assert_eq!(
        left.items.len(),
        3,
        "what was queued is handed back to be dropped"
    );
    assert!(matches!(
        q.push(Offer::Lagged(1), OnFull::Force, &mut wakes),
        Err(PushError::Gone(_))
    ));
}
