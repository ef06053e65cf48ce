//! `NativeClient`: one `codex_client::core::Connection` to an app-server, spawned over stdio
//! or connected by URL, with the calls the Python layer makes on it. Params go in and results
//! come out as JSON text (Python's `json` and pydantic do the rest), so no `Value` tree is
//! built on the Rust side.

use std::time::Duration;

use codex_client::SpawnConfig;
use codex_client::core::{
    ClientInfo, Connection, ConnectionConfig, RequestOptions, SubscribeOptions,
};
use codex_client::transport::ConnectOptions;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::value::RawValue;

use crate::errors;
use crate::handler::PyHandler;
use crate::runtime;
use crate::stream::NativeStream;

/// Events a turn's queue holds before the reader waits for its consumer (then the grace, then
/// a gap). Shallower than the core's default (1024): the reader outruns consumers that hold
/// the GIL, and what it has read ahead is memory; a queue two of the Python side's batches
/// deep keeps a consumer fed (the reader refills it while the consumer is in the other batch)
/// with 1.5 MB less at 64 turns than 256 (BENCHMARKS.md, "Python"). Nothing is lost by it: a
/// full queue makes the reader wait.
const TURN_QUEUE_EVENTS: usize = 128;
/// Bytes a turn's queue holds, likewise (one event however large is always taken).
const TURN_QUEUE_BYTES: usize = 1024 * 1024;

/// How long the reader waits for a turn's consumer whose queue is full before that consumer
/// gets a gap (the core's default is 50 ms). A Python thread can wait that long for the GIL
/// among many busy threads, or be descheduled on a loaded machine, without being stalled; a
/// consumer that has truly stopped holds the others up once for this long, then not at all.
const SLOW_CONSUMER_GRACE: Duration = Duration::from_secs(1);

/// Each step of `close()`: after stdin is closed the app-server has this long to exit, then
/// SIGTERM and this long again, then SIGKILL (the core's default is 5 s a step). An app-server
/// that has loaded a thread can take 5 s to exit on its own when its plugin sync cannot reach
/// GitHub (offline, observed on 0.163.0); the official client gives it 2 s in all before
/// SIGKILL, and so does this: a `with Codex() as codex:` block does not end 5 s late.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The settings of a connection, as the Python layer's `CodexConfig` gives them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct Settings {
    client_name: String,
    client_title: Option<String>,
    client_version: String,
    experimental_api: bool,
    /// Default timeout of a request, in seconds (`None`: the core's default).
    request_timeout_s: Option<f64>,
    /// How long `initialize` may take, in seconds.
    initialize_timeout_s: Option<f64>,
    /// How long the server's requests may wait for the handler, in seconds.
    server_request_timeout_s: Option<f64>,
    /// `(method, params_json) -> answer_json | None`; `None`: every server request gets its
    /// fail-closed answer.
    handler: Option<Py<PyAny>>,
}

fn seconds(name: &str, value: Option<f64>) -> PyResult<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(PyValueError::new_err(format!(
            "{name} must be a finite number of seconds > 0, got {s}"
        ))),
    }
}

impl Settings {
    fn connection_config(self) -> PyResult<ConnectionConfig> {
        let mut info = ClientInfo::new(self.client_name, self.client_version);
        if let Some(title) = self.client_title {
            info = info.title(title);
        }
        let mut config = ConnectionConfig::new()
            .client_info(info)
            .experimental_api(self.experimental_api)
            // A Python consumer may be held up by the GIL: a longer grace before a gap.
            .turn_queue_limits(TURN_QUEUE_EVENTS, TURN_QUEUE_BYTES)
            .slow_consumer_grace(SLOW_CONSUMER_GRACE)
            .close_timeout(CLOSE_GRACE);
        if let Some(t) = seconds("request_timeout_s", self.request_timeout_s)? {
            config = config.request_timeout(t);
        }
        if let Some(t) = seconds("initialize_timeout_s", self.initialize_timeout_s)? {
            config = config.initialize_timeout(t);
        }
        if let Some(t) = seconds("server_request_timeout_s", self.server_request_timeout_s)? {
            config = config.server_request_timeout(t);
        }
        if let Some(handler) = self.handler {
            config = config.handler(PyHandler::new(handler));
        }
        Ok(config)
    }
}

fn options(timeout_s: Option<f64>) -> PyResult<RequestOptions> {
    let mut options = RequestOptions::new();
    if let Some(t) = seconds("timeout", timeout_s)? {
        options = options.timeout(t);
    }
    Ok(options)
}

/// Params given as JSON text, checked to be one JSON value (`ValueError` otherwise) before
/// anything is sent.
fn raw_value(text: String) -> PyResult<Box<RawValue>> {
    RawValue::from_string(text)
        .map_err(|err| PyValueError::new_err(format!("params are not one JSON value: {err}")))
}

fn raw_params(text: Option<String>) -> PyResult<Option<Box<RawValue>>> {
    text.map(raw_value).transpose()
}

/// What `initialize` answered, for Python: `(user_agent, codex_home, platform_family,
/// platform_os)`.
type InitializeInfo = (String, Option<String>, Option<String>, Option<String>);

/// A connection to an app-server.
#[pyclass(module = "codex_client._native", frozen)]
pub(crate) struct NativeClient {
    conn: Connection,
}

#[pymethods]
impl NativeClient {
    /// Spawns `program args...` (the whole command line: the Python layer resolved the binary)
    /// with exactly `env` as its environment, in `cwd`, and does the handshake.
    #[staticmethod]
    #[pyo3(signature = (program, args, cwd, env, settings))]
    fn spawn(
        py: Python<'_>,
        program: String,
        args: Vec<String>,
        cwd: Option<String>,
        env: Vec<(String, String)>,
        settings: Settings,
    ) -> PyResult<Self> {
        runtime::configure_once();
        let config = settings.connection_config()?;
        let mut spawn = SpawnConfig::explicit(program, args)
            .env_clear(true)
            .envs(env)
            // The Python layer put the runtime package's `codex-path/` on PATH itself, as the
            // official SDK does (`codex_cli_bin.bundled_path_dir`).
            .runtime_path(false);
        if let Some(cwd) = cwd {
            spawn = spawn.cwd(cwd);
        }
        let conn = runtime::wait(py, Connection::spawn(spawn, config))?.map_err(errors::to_py)?;
        Ok(Self { conn })
    }

    /// Connects to a running app-server (`ws://`, `unix://`) and does the handshake.
    #[staticmethod]
    #[pyo3(signature = (url, settings, bearer_token = None))]
    fn connect(
        py: Python<'_>,
        url: String,
        settings: Settings,
        bearer_token: Option<String>,
    ) -> PyResult<Self> {
        runtime::configure_once();
        let config = settings.connection_config()?;
        let mut connect = ConnectOptions::new();
        if let Some(token) = bearer_token {
            connect = connect.bearer_token(token);
        }
        let future = async move {
            let transport = codex_client::Transport::connect(&url, &connect).await?;
            Connection::connect(transport, config).await
        };
        let conn = runtime::wait(py, future)?.map_err(errors::to_py)?;
        Ok(Self { conn })
    }

    /// What `initialize` answered: `(user_agent, codex_home, platform_family, platform_os)`.
    fn server_info(&self) -> Option<InitializeInfo> {
        self.conn.server_info().map(|info| {
            (
                info.user_agent.clone(),
                info.codex_home.clone(),
                info.platform_family.clone(),
                info.platform_os.clone(),
            )
        })
    }

    /// Sends `method` with `params_json` (`None` omits the params) and returns the result as
    /// JSON text. Blocks with the GIL released; JSON-RPC errors raise the classes of
    /// `codex_client.errors`.
    #[pyo3(signature = (method, params_json = None, timeout = None))]
    fn request(
        &self,
        py: Python<'_>,
        method: String,
        params_json: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<String> {
        let options = options(timeout)?;
        let conn = self.conn.clone();
        let params = raw_params(params_json)?;
        let result = runtime::wait(py, async move {
            conn.request_raw_json_with(&method, params, options).await
        })?;
        result
            .map(|raw| raw.get().to_owned())
            .map_err(errors::to_py)
    }

    /// [`request`](Self::request) for asyncio.
    #[pyo3(signature = (method, params_json = None, timeout = None))]
    fn request_async<'py>(
        &self,
        py: Python<'py>,
        method: String,
        params_json: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = options(timeout)?;
        let conn = self.conn.clone();
        let params = raw_params(params_json)?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            conn.request_raw_json_with(&method, params, options)
                .await
                .map(|raw| raw.get().to_owned())
                .map_err(errors::to_py)
        })
    }

    /// Sends a turn-starting request (`turn/start`, `review/start`) and returns its result and
    /// the turn's stream; the route is registered before the response reaches the caller, so
    /// no event of the turn is lost.
    #[pyo3(signature = (method, params_json, timeout = None))]
    fn request_turn(
        &self,
        py: Python<'_>,
        method: String,
        params_json: String,
        timeout: Option<f64>,
    ) -> PyResult<(String, NativeStream)> {
        let options = options(timeout)?;
        let conn = self.conn.clone();
        let params = raw_value(params_json)?;
        let result = runtime::wait(py, async move {
            conn.request_turn_raw_json(&method, params, SubscribeOptions::new(), options)
                .await
        })?;
        let (raw, stream) = result.map_err(errors::to_py)?;
        Ok((raw.get().to_owned(), NativeStream::turn(stream)))
    }

    /// [`request_turn`](Self::request_turn) for asyncio.
    #[pyo3(signature = (method, params_json, timeout = None))]
    fn request_turn_async<'py>(
        &self,
        py: Python<'py>,
        method: String,
        params_json: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = options(timeout)?;
        let conn = self.conn.clone();
        let params = raw_value(params_json)?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let (raw, stream) = conn
                .request_turn_raw_json(&method, params, SubscribeOptions::new(), options)
                .await
                .map_err(errors::to_py)?;
            Ok((raw.get().to_owned(), NativeStream::turn(stream)))
        })
    }

    /// Sends a client notification.
    #[pyo3(signature = (method, params_json = None))]
    fn notify(&self, method: &str, params_json: Option<&str>) -> PyResult<()> {
        let params = match params_json {
            Some(text) => Some(
                serde_json::from_str(text)
                    .map_err(|err| PyValueError::new_err(format!("params are not JSON: {err}")))?,
            ),
            None => None,
        };
        self.conn.notify(method, params).map_err(errors::to_py)
    }

    /// The stream of a turn by id: the first subscriber gets the events buffered before it
    /// subscribed (the turn's `turn/completed` included), later ones from now on.
    fn subscribe_turn(&self, turn_id: &str) -> NativeStream {
        NativeStream::turn(self.conn.subscribe_turn(turn_id))
    }

    /// The notifications of a thread that no turn stream takes.
    fn subscribe_thread(&self, thread_id: &str) -> NativeStream {
        NativeStream::notifications(self.conn.subscribe_thread(thread_id))
    }

    /// Every notification that no turn or thread stream takes.
    fn notifications(&self) -> NativeStream {
        NativeStream::notifications(self.conn.notifications())
    }

    /// The last lines of the app-server's stderr.
    fn stderr_tail(&self) -> String {
        self.conn.stderr_tail()
    }

    /// `True` once the connection is closed or closing.
    fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Why the connection ended, once it has.
    fn closed_reason(&self) -> Option<String> {
        self.conn.closed().map(|info| info.to_string())
    }

    /// The app-server's process id (stdio).
    fn pid(&self) -> Option<u32> {
        self.conn.pid()
    }

    /// Sizes of the router's tables: `(turn_routes, pending_turns, subscribers, waiters)` and
    /// the events dropped because no stream took them, for tests and monitoring.
    fn stats(&self) -> std::collections::HashMap<&'static str, u64> {
        let stats = self.conn.stats();
        let mut out = std::collections::HashMap::new();
        out.insert("waiters", stats.waiters as u64);
        out.insert("idle", u64::from(stats.is_idle()));
        out
    }

    /// Closes gracefully (stdin closed, then SIGTERM, then SIGKILL, bounded); every request
    /// and stream still open ends with `TransportClosedError`. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let conn = self.conn.clone();
        runtime::wait(py, async move {
            conn.close().await;
        })
    }
}
