//! The benchmark suite's verdicts on its targets (`benches/suite/targets.rs`): the suite is a
//! `harness = false` bench, which runs no tests of its own, so they run here.

#[path = "../benches/suite/targets.rs"]
mod targets;

use serde_json::json;
use targets::judge;

#[test]
fn a_figure_past_its_bound_is_missed_by_the_difference() {
    let report = json!({
        "latency": {"concurrent64": {"p50_diff_us": 117.3, "p99_ratio": 1.2}},
        "routing": [{"turns": 16, "ratio_to_value": 1.24, "lost": 0},
                    {"turns": 256, "ratio_to_value": 0.7, "lost": 3}],
    });
    let judged = judge(&report, false);
    let by_name = |name: &str| {
        judged
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {judged}"))
            .clone()
    };
    let p50 = by_name("latency, 64-way: p50 over the minimal client");
    assert_eq!(p50["met"], false);
    assert!((p50["missed_by"].as_f64().unwrap() - 102.3).abs() < 1e-9);
    assert_eq!(
        by_name("latency, 64-way: p99 over the minimal client")["met"],
        true
    );
    assert_eq!(by_name("routing, K = 16")["met"], true);
    assert_eq!(by_name("routing, K = 256")["met"], false);
    let lost = by_name("routing: events lost, all K");
    assert_eq!(
        (lost["met"].clone(), lost["missed_by"].clone()),
        (json!(false), json!(3.0))
    );
}

#[test]
fn a_quick_run_judges_nothing() {
    let report = json!({"e2e": {"batch_overhead_pct": 6.1, "ready_diff_ms": 76.4}});
    let judged = judge(&report, true);
    assert_eq!(judged.as_array().unwrap().len(), 2);
    assert!(
        judged
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["met"].is_null())
    );
}
