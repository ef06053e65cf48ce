//! The skip-or-fail rule of `require_codex_binary`, as a user's `cargo test` meets it: this test
//! binary runs its own ignored probe test in a child process, with no binary to be found and
//! without `--nocapture`, and looks at the exit status and what the child wrote.

use std::process::{Command, Output};

/// Not a test of its own: what a user's test does. Run by the tests below.
#[test]
#[ignore = "run by the skip-or-fail tests in a child process"]
fn probe_a_test_that_needs_codex() {
    let Some(_codex) = codex_client_testkit::require_codex_binary("probe_a_test_that_needs_codex")
    else {
        return;
    };
    panic!("the probe must not find a binary");
}

/// The probe with nothing to find (no `CODEX_BIN`, no virtualenv, a `PATH` of an empty
/// directory, a target directory without the pinned runtime), plus `vars`.
fn run_probe(vars: &[(&str, &str)]) -> Output {
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--ignored", "--exact", "probe_a_test_that_needs_codex"])
        .env("PATH", empty.path())
        .env("CARGO_TARGET_DIR", empty.path())
        .env_remove("CODEX_BIN")
        .env_remove("VIRTUAL_ENV")
        .env_remove("CI")
        .env_remove("CODEX_CLIENT_REQUIRE_APP_SERVER");
    cmd.envs(vars.iter().copied());
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_skip_is_visible_without_nocapture_and_says_how_to_get_a_binary() {
    let out = run_probe(&[]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "SKIPPED: probe_a_test_that_needs_codex",
        "did NOT run",
        "pip install openai-codex-cli-bin==",
        "CODEX_BIN",
        "CODEX_CLIENT_REQUIRE_APP_SERVER=1",
    ] {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }
}

#[test]
fn under_ci_or_when_required_a_missing_binary_fails() {
    for vars in [
        &[("CI", "true")][..],
        &[("CI", "1")][..],
        &[("CODEX_CLIENT_REQUIRE_APP_SERVER", "1")][..],
    ] {
        let out = run_probe(vars);
        let all = text(&out);
        assert!(!out.status.success(), "{vars:?} must fail: {all}");
        assert!(all.contains("fails instead of skipping"), "{all}");
        assert!(all.contains("pip install openai-codex-cli-bin=="), "{all}");
    }
}

#[test]
fn an_explicit_opt_out_or_a_false_ci_keeps_the_skip() {
    for vars in [
        &[("CI", "false")][..],
        &[("CI", "")][..],
        &[("CI", "true"), ("CODEX_CLIENT_REQUIRE_APP_SERVER", "0")][..],
    ] {
        let out = run_probe(vars);
        assert!(out.status.success(), "{vars:?}: {}", text(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("SKIPPED"));
    }
}

#[test]
fn a_codex_bin_naming_no_file_fails_even_locally() {
    let out = run_probe(&[("CODEX_BIN", "/nonexistent/codex")]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("CODEX_BIN is set but names no file") && all.contains("/nonexistent/codex"),
        "{all}"
    );
}
