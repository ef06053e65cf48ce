//! Rough routing throughput: N agent-message deltas of one turn through the reader, router and a
//! consumer — over a real pipe (`cat FILE`) and over the in-memory transport — against the
//! baseline of reading the lines and parsing each into a `serde_json::Value`.
//! `cargo run --release -p codex-client --example routing_throughput [N]`.

use codex_client::core::{Connection, ConnectionConfig};
use codex_client::{Transport, TurnEvent};
use futures::StreamExt;
use serde_json::json;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let lines: Vec<String> = (0..n)
        .map(|i| {
            json!({"method": "item/agentMessage/delta", "params": {
                "threadId": "01a20c2c-f1ed-74f2-bef9-72d924088423",
                "turnId": "01a20c2c-f1fb-7cd0-aead-77978de41dd3",
                "itemId": "msg_resp_mock_1", "delta": format!("token {i} ")
            }, "emittedAtMs": 1795500601891i64})
            .to_string()
        })
        .collect();

    let start = Instant::now();
    let mut total = 0usize;
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        total += v.as_object().map_or(0, |o| o.len());
    }
    let baseline = start.elapsed();
    assert!(total > 0);

    components(&lines);
    if std::env::var_os("SKIP_PIPE").is_none() {
        through_a_pipe(&lines).await;
    }
    let (transport, peer) = Transport::memory();
    let conn = Connection::connect(
        transport,
        ConnectionConfig::default()
            .handshake(false)
            .turn_queue_capacity(n + 16),
    )
    .await
    .unwrap();
    let mut stream = conn.subscribe_turn("01a20c2c-f1fb-7cd0-aead-77978de41dd3");
    let start = Instant::now();
    for line in lines {
        peer.send(line);
    }
    let mut got = 0;
    while got < n {
        match stream.next().await.unwrap().unwrap() {
            TurnEvent::Notification(_) => got += 1,
            TurnEvent::Lagged(missed) => panic!("the consumer lost {missed} events"),
            _ => {}
        }
    }
    let routed = start.elapsed();
    println!(
        "{n} lines: parse to Value {:?} ({:.0}/s); routed {:?} ({:.0}/s); ratio {:.2}",
        baseline,
        n as f64 / baseline.as_secs_f64(),
        routed,
        n as f64 / routed.as_secs_f64(),
        baseline.as_secs_f64() / routed.as_secs_f64()
    );
}

fn components(lines: &[String]) {
    use codex_client::protocol::ServerNotification;
    use codex_client::protocol::envelope::Incoming;
    let start = Instant::now();
    let mut k = 0;
    for line in lines {
        if let Ok(Incoming::Notification { method, params, .. }) = Incoming::parse(line) {
            let n = ServerNotification::decode(&method, params).unwrap();
            k += n.turn_id().map_or(0, str::len);
        }
    }
    println!("parse+decode only: {:?} ({k})", start.elapsed());
}

/// Through a real pipe: `cat FILE` as the "server", against reading the same file's lines and
/// parsing each into a Value.
async fn through_a_pipe(lines: &[String]) {
    use tokio::io::AsyncBufReadExt;
    let n = lines.len();
    let path =
        std::env::temp_dir().join(format!("codex-client-bench-{}.jsonl", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let start = Instant::now();
    let child = tokio::process::Command::new("/bin/cat")
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = tokio::io::BufReader::new(child.stdout.unwrap()).lines();
    let mut count = 0;
    while let Some(line) = reader.next_line().await.unwrap() {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        count += usize::from(v.is_object());
    }
    assert_eq!(count, n);
    let baseline = start.elapsed();

    let start = Instant::now();
    let spawn = codex_client::SpawnConfig::explicit(
        "/bin/sh",
        ["-c", &format!("cat {}; sleep 5", path.display())],
    );
    let conn = Connection::spawn(
        spawn,
        ConnectionConfig::default()
            .handshake(false)
            .turn_queue_capacity(n + 16),
    )
    .await
    .unwrap();
    let mut stream = conn.subscribe_turn("01a20c2c-f1fb-7cd0-aead-77978de41dd3");
    let mut got = 0;
    while got < n {
        stream.next().await.unwrap().unwrap();
        got += 1;
    }
    let routed = start.elapsed();
    println!(
        "pipe: read+parse to Value {baseline:?}; spawn+read+route+consume {routed:?}; ratio {:.2}",
        baseline.as_secs_f64() / routed.as_secs_f64()
    );
    drop(conn);
    let _ = std::fs::remove_file(path);
}
