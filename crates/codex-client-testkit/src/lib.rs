//! Offline test kit for clients of the Codex `app-server`: a mock model and a harness that runs
//! the **real** app-server against it, with nothing reaching any address but `127.0.0.1`.
//!
//! | piece | what it is |
//! |---|---|
//! | [`MockModel`] | an HTTP server on loopback speaking the Responses API (`POST /v1/responses`, SSE), scripted with [`MockResponse`]s, recording every [`RecordedRequest`] |
//! | [`CodexSandbox`] | throwaway `CODEX_HOME`/`HOME`/`TMPDIR`/workdir and the exact offline command line, as plain data ([`AppServerLaunch`]) an SDK can spawn itself |
//! | [`RawAppServer`] | a JSON-lines driver of the real process: send lines, wait for messages with timeouts, keep the transcript, drain stderr |
//! | [`ListeningAppServer`] | the real process in listen mode (`--listen ws://127.0.0.1:0`, `unix://PATH`), ready when its listener is |
//! | [`AppServerHarness`] | all three, started and initialized in one call |
//! | [`find_codex_binary`], [`require_codex_binary`] | binary discovery and the skip-or-fail rule for tests that need it |
//! | [`user_texts`], [`agent_texts`], [`item_of_type`], [`TINY_PNG`] | assertion helpers over a turn's items, shared by the end-to-end suites |
//!
//! What it leaves to you: the client under test. The kit does not depend on the SDK
//! (`codex-client`); an SDK test takes [`CodexSandbox::launch`] and spawns the process its own way.
//!
//! # Example
//!
//! ```no_run
//! use codex_client_testkit::{AppServerHarness, MockResponse};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), codex_client_testkit::Error> {
//! // `None`: no binary, and neither CI nor CODEX_CLIENT_REQUIRE_APP_SERVER=1 is set: skipped
//! // (with a note on stderr that shows without --nocapture).
//! let Some(mut h) = AppServerHarness::start("readme_example").await? else { return Ok(()) };
//! h.mock().push(MockResponse::deltas(["Hello ", "world"]));
//!
//! let thread_id = h.start_thread(serde_json::json!({})).await?;
//! h.start_turn(&thread_id, "Say hello").await?;
//! let done = h.server().wait_notification("turn/completed", Duration::from_secs(10)).await?;
//! assert_eq!(done["params"]["turn"]["status"], "completed");
//! assert_eq!(h.mock().last_user_text().as_deref(), Some("Say hello"));
//! # Ok(()) }
//! ```
//!
//! # The rules it enforces
//!
//! Every launch carries the offline command line (provider `mock`
//! on loopback, no retries, analytics off, `--disable plugins remote_plugin apps plugin_sharing
//! tool_suggest unbounded_connection_retries`). Every process is killed and reaped, and every
//! directory removed, on drop — also when a test panics.

mod binary;
mod error;
mod harness;
mod items;
mod listen;
mod mock;
mod raw;
mod sandbox;

pub use binary::{
    CI_ENV, CODEX_BIN_ENV, REQUIRE_APP_SERVER_ENV, find_codex_binary, missing_binary_fails,
    pinned_runtime_binary, require_codex_binary, runtime_path_dir,
};
pub use error::Error;
pub use harness::{AppServerHarness, STARTUP_TIMEOUT};
pub use items::{TINY_PNG, agent_texts, item_of_type, user_texts};
pub use listen::ListeningAppServer;
pub use mock::{ExecCommand, Matcher, MockModel, MockResponse, RecordedRequest, StallGate};
pub use raw::{RawAppServer, STDERR_TAIL_LINES};
pub use sandbox::{AppServerLaunch, CodexSandbox, DISABLED_FEATURES, MOCK_MODEL_NAME};
