//! Properties of the router, over random interleavings of K turns' events, with each turn's
//! `turn/start` response before, among or after its events, and random consumer speeds (within
//! the queue capacity):
//!
//! - exactly once, in order: every turn's stream yields exactly its own events, in order, ending
//!   with its `turn/completed`;
//! - cleanup: the router is empty afterwards — also when random consumers drop their stream
//!   part-way (they got an exact prefix; the turn's later events are neither delivered nor
//!   buffered), and when the turn ends before anybody reads it.

mod common;

use codex_client::TurnEvent;
use codex_client::core::ConnectionConfig;
use common::*;
use futures::StreamExt;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone)]
struct Scenario {
    /// Events per turn (excluding `turn/started` and `turn/completed`).
    deltas: Vec<usize>,
    /// The order in which the turns' items are emitted: turn index per step. Each turn has
    /// `deltas + 3` items: started, deltas, completed, and its response.
    order: Vec<usize>,
    /// Per turn, where among its own items its response goes (0 = first).
    response_at: Vec<usize>,
    /// Per turn, yields between reads of its consumer (cycled).
    speeds: Vec<Vec<u8>>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (1usize..=5)
        .prop_flat_map(|k| {
            (
                proptest::collection::vec(0usize..=25, k),
                proptest::collection::vec(proptest::collection::vec(0u8..4, 1..6), k),
            )
        })
        .prop_flat_map(|(deltas, speeds)| {
            let k = deltas.len();
            let slots: Vec<usize> = deltas
                .iter()
                .enumerate()
                .flat_map(|(t, d)| std::iter::repeat_n(t, d + 3))
                .collect();
            let response_at: Vec<BoxedStrategy<usize>> =
                deltas.iter().map(|d| (0..=d + 2).boxed()).collect();
            (
                Just(deltas),
                Just(slots).prop_shuffle(),
                response_at,
                Just(speeds),
                Just(k),
            )
        })
        .prop_map(|(deltas, order, response_at, speeds, _)| Scenario {
            deltas,
            order,
            response_at,
            speeds,
        })
}

fn expected(turn: usize, deltas: usize) -> Vec<String> {
    let mut v = vec!["turn/started".to_owned()];
    v.extend((0..deltas).map(|i| format!("delta:{turn}-{i}")));
    v.push("turn/completed".to_owned());
    v
}

async fn run(s: Scenario) -> Result<(), TestCaseError> {
    let drops = vec![None; s.deltas.len()];
    run_with_drops(s, drops).await
}

/// `drop_after[t] = Some(n)`: turn `t`'s consumer drops its stream after `n` events.
async fn run_with_drops(s: Scenario, drop_after: Vec<Option<usize>>) -> Result<(), TestCaseError> {
    let (conn, mut peer) = connect(ConnectionConfig::default().turn_queue_capacity(64)).await;
    let k = s.deltas.len();
    let mut consumers = Vec::new();
    for (t, &stop) in drop_after.iter().enumerate() {
        let c = conn.clone();
        let speed = s.speeds[t].clone();
        consumers.push(tokio::spawn(async move {
            let (_, mut stream) = c.start_turn(turn_start_params(&format!("th-{t}"))).await?;
            let mut got = Vec::new();
            let mut step = 0;
            while stop != Some(got.len())
                && let Some(item) = stream.next().await
            {
                match item? {
                    TurnEvent::Notification(n) => got.push(match delta_text(&n) {
                        Some(d) => format!("delta:{d}"),
                        None => n.method().to_owned(),
                    }),
                    TurnEvent::ServerRequest(_) => got.push("request".to_owned()),
                    other => got.push(format!("{other:?}")),
                }
                for _ in 0..speed[step % speed.len()] {
                    tokio::task::yield_now().await;
                }
                step += 1;
            }
            Ok::<_, codex_client::Error>(got)
        }));
    }
    // The fake server: learn which request id belongs to which turn.
    let mut request_ids: HashMap<usize, Value> = HashMap::new();
    for _ in 0..k {
        let (id, method, params) = next_request(&mut peer).await;
        prop_assert_eq!(method, "turn/start");
        let t: usize = params["threadId"].as_str().unwrap()[3..].parse().unwrap();
        request_ids.insert(t, id);
    }
    // Play the interleaving.
    let mut item_of_turn = vec![0usize; k];
    let mut sent_events = vec![0usize; k];
    for &t in &s.order {
        let i = item_of_turn[t];
        item_of_turn[t] += 1;
        let (thread, turn) = (format!("th-{t}"), format!("turn-{t}"));
        if i == s.response_at[t] {
            respond(&peer, &request_ids[&t], turn_start_result(&turn));
            continue;
        }
        let e = sent_events[t];
        sent_events[t] += 1;
        let line = if e == 0 {
            turn_started(&thread, &turn)
        } else if e <= s.deltas[t] {
            delta(&thread, &turn, &format!("{t}-{}", e - 1))
        } else {
            turn_completed(&thread, &turn)
        };
        peer.send(line);
        if e % 7 == 3 {
            tokio::task::yield_now().await;
        }
    }
    for (t, consumer) in consumers.into_iter().enumerate() {
        let got = tokio::time::timeout(T, consumer)
            .await
            .map_err(|_| TestCaseError::fail(format!("turn {t} did not end")))?
            .unwrap()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut want = expected(t, s.deltas[t]);
        if let Some(n) = drop_after[t] {
            want.truncate(n);
        }
        prop_assert_eq!(got, want, "turn {}", t);
    }
    // Every line sent has been routed once a later request is answered.
    let c = conn.clone();
    let sync = tokio::spawn(async move { c.request_raw("sync", None).await });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, serde_json::json!({}));
    sync.await
        .unwrap()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let stats = conn.stats();
    prop_assert!(stats.is_idle(), "{:?}", stats);
    prop_assert_eq!(stats.lagged_events, 0);
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn consumers_that_drop_part_way_get_a_prefix_and_leave_nothing_behind(
        (s, drops) in scenario().prop_flat_map(|s| {
            let k = s.deltas.len();
            let drops = proptest::collection::vec(proptest::option::of(0usize..30), k);
            (Just(s), drops)
        })
    ) {
        runtime().block_on(run_with_drops(s, drops))?;
    }

    #[test]
    fn every_turn_stream_yields_exactly_its_own_events_in_order(s in scenario()) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(s))?;
    }
}
