//! The test kit's native half (`codex_client.testing`): codex-client-testkit's mock model
//! (`MockModel`, `MockResponse`, `Matcher`, `StallGate`, `RecordedRequest`) and its sandbox
//! (`CodexSandbox`: the throwaway directories and the offline command line of the real
//! app-server), as Python classes. The Python package `codex_client.testing` builds the harness
//! and the pytest fixtures on them.
//!
//! The mock runs on the module's one tokio runtime (the one the connections use); every wait
//! (`wait_for_requests`, `wait_stalled`) releases the GIL and stays interruptible by Ctrl-C.
//! Nothing here calls into Python from the runtime: matchers are data, not callbacks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_client_testkit as kit;
use pyo3::exceptions::{PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;

use crate::runtime;

fn duration(name: &str, seconds: f64) -> PyResult<Duration> {
    if seconds.is_finite() && seconds >= 0.0 {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(PyValueError::new_err(format!(
            "{name} must be a finite number of seconds >= 0, got {seconds}"
        )))
    }
}

fn kit_error(err: kit::Error) -> PyErr {
    match err {
        kit::Error::Timeout { .. } => PyTimeoutError::new_err(err.to_string()),
        kit::Error::Io(io) => PyErr::from(io),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

fn json_loads(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// One scripted answer of the mock model to one model request (``POST /v1/responses``).
///
/// Made by the static constructors; immutable (``with_delay`` returns a new one)::
///
///     MockResponse.message("Done.")
///     MockResponse.deltas(["Hello ", "world"]).with_delay(0.02)
///     MockResponse.exec_command("touch marker.txt")
///     MockResponse.exec_command("touch /outside", escalated="needs to leave the sandbox")
///     MockResponse.http_error(500, "mock forced HTTP 500")
///     MockResponse.response_failed("the model broke")
///     MockResponse.stalled(["partial "], gate)
#[pyclass(
    module = "codex_client._native",
    name = "MockResponse",
    frozen,
    from_py_object
)]
#[derive(Clone)]
pub(crate) struct PyMockResponse {
    inner: kit::MockResponse,
}

#[pymethods]
impl PyMockResponse {
    /// An assistant message streamed as one delta.
    #[staticmethod]
    fn message(text: String) -> Self {
        Self {
            inner: kit::MockResponse::message(text),
        }
    }

    /// An assistant message streamed as these deltas, in order (the text is their concatenation).
    #[staticmethod]
    fn deltas(deltas: Vec<String>) -> Self {
        Self {
            inner: kit::MockResponse::deltas(deltas),
        }
    }

    /// An ``exec_command`` function call (codex's shell tool) running ``cmd``. With
    /// ``escalated=justification`` it asks to run outside the sandbox, which under
    /// ``approvalPolicy: "on-request"`` makes the server ask the client for an approval. Codex
    /// runs the command (or not) and asks the model again with its output: script that
    /// follow-up answer too (``Matcher.tool_output()`` matches it).
    #[staticmethod]
    #[pyo3(signature = (cmd, *, yield_time_ms = 2000, escalated = None))]
    fn exec_command(cmd: String, yield_time_ms: u64, escalated: Option<String>) -> Self {
        let mut exec = kit::ExecCommand::new(cmd).yield_time_ms(yield_time_ms);
        if let Some(justification) = escalated {
            exec = exec.escalated(justification);
        }
        Self { inner: exec.into() }
    }

    /// An HTTP error ``status`` with an OpenAI-style JSON error body carrying ``message``.
    #[staticmethod]
    fn http_error(status: u16, message: String) -> Self {
        Self {
            inner: kit::MockResponse::http_error(status, message),
        }
    }

    /// A stream (status 200) that reports ``response.failed`` with this message: the turn fails
    /// with it.
    #[staticmethod]
    fn response_failed(message: String) -> Self {
        Self {
            inner: kit::MockResponse::response_failed(message),
        }
    }

    /// A message that streams ``deltas`` and then holds the stream open until ``gate`` is
    /// released (then completes), the client disconnects, or the mock closes.
    #[staticmethod]
    fn stalled(deltas: Vec<String>, gate: &PyStallGate) -> Self {
        Self {
            inner: kit::MockResponse::stalled(deltas, &gate.inner),
        }
    }

    /// The same answer, waiting ``seconds`` before each delta (so concurrent turns interleave).
    fn with_delay(&self, seconds: f64) -> PyResult<Self> {
        Ok(Self {
            inner: self.inner.clone().with_delay(duration("delay", seconds)?),
        })
    }

    /// The assistant text this answer streams, for a message (``None`` otherwise).
    #[getter]
    fn text(&self) -> Option<String> {
        self.inner.text()
    }

    /// The HTTP status it is sent with.
    #[getter]
    fn status(&self) -> u16 {
        self.inner.status()
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// Which requests a route applies to (``MockModel.route``)::
///
///     Matcher.user_text_contains("[a]")   # the request's latest user message contains it
///     Matcher.session_id(thread.id)       # codex sends the thread id as `session-id`
///     Matcher.tool_output()               # the follow-up after a tool ran
///     Matcher.any()
#[pyclass(
    module = "codex_client._native",
    name = "Matcher",
    frozen,
    from_py_object
)]
#[derive(Clone)]
pub(crate) struct PyMatcher {
    inner: kit::Matcher,
}

#[pymethods]
impl PyMatcher {
    /// Every request.
    #[staticmethod]
    fn any() -> Self {
        Self {
            inner: kit::Matcher::Any,
        }
    }

    /// The latest user message of the request contains ``text`` (a tool-call follow-up keeps
    /// the same latest user message, so it matches too).
    #[staticmethod]
    fn user_text_contains(text: String) -> Self {
        Self {
            inner: kit::Matcher::user_text_contains(text),
        }
    }

    /// The request's ``session-id`` header (the thread id) is ``thread_id``.
    #[staticmethod]
    fn session_id(thread_id: String) -> Self {
        Self {
            inner: kit::Matcher::session_id(thread_id),
        }
    }

    /// The request's input ends with a tool's output: the follow-up after a tool call.
    #[staticmethod]
    fn tool_output() -> Self {
        Self {
            inner: kit::Matcher::custom(kit::RecordedRequest::ends_with_tool_output),
        }
    }

    fn __repr__(&self) -> String {
        format!("Matcher.{:?}", self.inner)
    }
}

/// Holds ``MockResponse.stalled`` streams open until ``release()``, and counts the streams that
/// reached the stall point and the clients that went away (e.g. after an interrupt).
#[pyclass(module = "codex_client._native", name = "StallGate", frozen)]
pub(crate) struct PyStallGate {
    inner: kit::StallGate,
}

#[pymethods]
impl PyStallGate {
    #[new]
    fn new() -> Self {
        Self {
            inner: kit::StallGate::new(),
        }
    }

    /// Lets every stream waiting on the gate (and any later one) finish its message.
    fn release(&self) {
        self.inner.release();
    }

    /// Whether ``release()`` was called.
    #[getter]
    fn released(&self) -> bool {
        self.inner.is_released()
    }

    /// How many streams reached the stall point so far.
    #[getter]
    fn stalled(&self) -> usize {
        self.inner.stalled()
    }

    /// How many stalled streams ended because the client disconnected.
    #[getter]
    fn disconnected(&self) -> usize {
        self.inner.disconnected()
    }

    /// Waits until ``count`` streams have stalled; ``False`` after ``timeout`` seconds.
    #[pyo3(signature = (count = 1, timeout = 30.0))]
    fn wait_stalled(&self, py: Python<'_>, count: usize, timeout: f64) -> PyResult<bool> {
        let timeout = duration("timeout", timeout)?;
        let gate = self.inner.clone();
        runtime::wait(py, async move { gate.wait_stalled(count, timeout).await })
    }

    /// Waits until ``count`` stalled streams were dropped by the client; ``False`` after
    /// ``timeout`` seconds.
    #[pyo3(signature = (count = 1, timeout = 30.0))]
    fn wait_disconnected(&self, py: Python<'_>, count: usize, timeout: f64) -> PyResult<bool> {
        let timeout = duration("timeout", timeout)?;
        let gate = self.inner.clone();
        runtime::wait(
            py,
            async move { gate.wait_disconnected(count, timeout).await },
        )
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// One HTTP request the mock model received (what codex sent to "the model").
#[pyclass(module = "codex_client._native", name = "RecordedRequest", frozen)]
pub(crate) struct PyRecordedRequest {
    inner: kit::RecordedRequest,
}

#[pymethods]
impl PyRecordedRequest {
    /// Its position among the requests the mock received, from 0.
    #[getter]
    fn index(&self) -> usize {
        self.inner.index
    }

    /// The HTTP method (``POST``).
    #[getter]
    fn method(&self) -> &str {
        &self.inner.method
    }

    /// The path (``/v1/responses``).
    #[getter]
    fn path(&self) -> &str {
        &self.inner.path
    }

    /// The headers in arrival order, names lowercase.
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.inner.headers.clone()
    }

    /// The first value of header ``name`` (case-insensitive), or ``None``.
    fn header(&self, name: &str) -> Option<String> {
        self.inner.header(name).map(str::to_owned)
    }

    /// The ``session-id`` header: the thread id.
    #[getter]
    fn session_id(&self) -> Option<String> {
        self.inner.session_id().map(str::to_owned)
    }

    /// The ``x-codex-turn-metadata`` header as JSON (``turn_id``, ``thread_id``, ...), or ``None``.
    #[getter]
    fn turn_metadata(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match self.inner.turn_metadata() {
            Some(value) => json_loads(py, &value.to_string()).map(Some),
            None => Ok(None),
        }
    }

    /// The body as JSON (``None`` when it is not JSON; ``raw_body`` has the text).
    #[getter]
    fn body(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_loads(py, &self.inner.body.to_string())
    }

    /// The body as text.
    #[getter]
    fn raw_body(&self) -> &str {
        &self.inner.raw_body
    }

    /// The text of every user message of the request's ``input``, in order (codex's own
    /// context messages included): the prompt of this turn is the last one.
    fn user_texts(&self) -> Vec<String> {
        self.inner.user_texts()
    }

    /// The text of the last user message of ``input``: the turn's prompt.
    fn last_user_text(&self) -> Option<String> {
        self.inner.last_user_text()
    }

    /// The ``function_call_output`` items of ``input`` as ``(call_id, output)`` pairs.
    fn function_call_outputs(&self) -> Vec<(String, String)> {
        self.inner.function_call_outputs()
    }

    /// Whether ``input`` ends with a tool's output (this is the follow-up after a tool ran).
    fn ends_with_tool_output(&self) -> bool {
        self.inner.ends_with_tool_output()
    }

    fn __repr__(&self) -> String {
        format!(
            "RecordedRequest(index={}, {} {}, last_user_text={:?})",
            self.inner.index,
            self.inner.method,
            self.inner.path,
            self.inner.last_user_text()
        )
    }
}

fn recorded(requests: Vec<kit::RecordedRequest>) -> Vec<PyRecordedRequest> {
    requests
        .into_iter()
        .map(|inner| PyRecordedRequest { inner })
        .collect()
}

/// A mock Responses-API model on ``127.0.0.1`` (an ephemeral port): scripted answers, recorded
/// requests. An answer is chosen per request: the first matching route (in the order added),
/// else the next ``push``-ed answer, else the default ("Hello from the mock model.")::
///
///     mock = MockModel()
///     mock.push(MockResponse.deltas(["Hello ", "world"]))
///     mock.route(Matcher.user_text_contains("[b]"), MockResponse.message("for b"))
///     ...                                   # point an app-server at mock.url
///     request = mock.wait_for_requests(1, timeout=10)[0]
///     assert request.last_user_text() == "Say hello"
///     mock.close()
#[pyclass(module = "codex_client._native", name = "MockModel", frozen)]
pub(crate) struct PyMockModel {
    inner: Mutex<Option<Arc<kit::MockModel>>>,
}

impl PyMockModel {
    fn mock(&self) -> PyResult<Arc<kit::MockModel>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("the mock model is closed"))
    }
}

#[pymethods]
impl PyMockModel {
    /// Binds ``127.0.0.1:0`` and starts serving.
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        runtime::configure_once();
        let mock = runtime::wait(py, async { kit::MockModel::start().await })?;
        Ok(Self {
            inner: Mutex::new(Some(Arc::new(mock.map_err(kit_error)?))),
        })
    }

    /// ``http://127.0.0.1:<port>/v1``: the provider ``base_url`` to give codex.
    #[getter]
    fn url(&self) -> PyResult<String> {
        Ok(self.mock()?.base_url())
    }

    /// The port it listens on.
    #[getter]
    fn port(&self) -> PyResult<u16> {
        Ok(self.mock()?.addr().port())
    }

    /// Queues ``response`` for the next request that no route claims.
    fn push(&self, response: PyMockResponse) -> PyResult<()> {
        self.mock()?.push(response.inner);
        Ok(())
    }

    /// Sets the answer used when no route and no queued answer applies.
    fn set_default(&self, response: PyMockResponse) -> PyResult<()> {
        self.mock()?.set_default(response.inner);
        Ok(())
    }

    /// Answers the requests ``matcher`` matches with ``responses``, one each, in order (e.g. a
    /// tool call, then the message after the tool ran).
    #[pyo3(signature = (matcher, *responses))]
    fn route(&self, matcher: PyMatcher, responses: Vec<PyMockResponse>) -> PyResult<()> {
        if responses.is_empty() {
            return Err(PyValueError::new_err("route() needs at least one response"));
        }
        self.mock()?
            .route_sequence(matcher.inner, responses.into_iter().map(|r| r.inner));
        Ok(())
    }

    /// Answers every request ``matcher`` matches with ``response``, for ever.
    fn route_always(&self, matcher: PyMatcher, response: PyMockResponse) -> PyResult<()> {
        self.mock()?.route_always(matcher.inner, response.inner);
        Ok(())
    }

    /// Every request received so far (since the last ``forget_requests()``), in order.
    fn requests(&self) -> PyResult<Vec<PyRecordedRequest>> {
        Ok(recorded(self.mock()?.requests()))
    }

    /// How many requests were received so far (forgotten ones included).
    fn request_count(&self) -> PyResult<usize> {
        Ok(self.mock()?.request_count())
    }

    /// The last user text of the last request, or ``None``.
    fn last_user_text(&self) -> PyResult<Option<String>> {
        Ok(self.mock()?.last_user_text())
    }

    /// Drops the requests recorded so far (counting goes on).
    fn forget_requests(&self) -> PyResult<()> {
        self.mock()?.forget_requests();
        Ok(())
    }

    /// Waits until ``count`` requests were received and returns those kept; raises
    /// ``TimeoutError`` after ``timeout`` seconds. Releases the GIL; Ctrl-C interrupts it.
    #[pyo3(signature = (count, timeout = 30.0))]
    fn wait_for_requests(
        &self,
        py: Python<'_>,
        count: usize,
        timeout: f64,
    ) -> PyResult<Vec<PyRecordedRequest>> {
        let timeout = duration("timeout", timeout)?;
        let mock = self.mock()?;
        let requests = runtime::wait(
            py,
            async move { mock.wait_for_requests(count, timeout).await },
        )?;
        Ok(recorded(requests.map_err(kit_error)?))
    }

    /// Stops the server: open streams (stalled ones included) end. Idempotent.
    fn close(&self) {
        let mock = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        drop(mock);
    }

    /// Whether ``close()`` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none()
    }

    fn __repr__(&self) -> String {
        match self.mock() {
            Ok(mock) => format!(
                "MockModel(url={:?}, requests={})",
                mock.base_url(),
                mock.request_count()
            ),
            Err(_) => "MockModel(closed)".to_owned(),
        }
    }
}

/// The throwaway ``CODEX_HOME``, ``HOME``, ``TMPDIR`` and working directory of one app-server,
/// and the offline command line that runs ``binary`` against the mock at ``base_url``: the
/// ``mock`` provider on loopback without retries, analytics off, and the ``--disable`` flags
/// without which codex reaches out to the network. ``config`` adds ``-c key=value`` overrides
/// (values are TOML). The directories are made in a new temporary root inside ``dir`` (default:
/// the system's temporary directory) and removed by ``close()`` (or when it is collected).
#[pyclass(module = "codex_client._native", name = "CodexSandbox", frozen)]
pub(crate) struct PyCodexSandbox {
    inner: Mutex<Option<kit::CodexSandbox>>,
}

impl PyCodexSandbox {
    fn with<T>(&self, f: impl FnOnce(&kit::CodexSandbox) -> T) -> PyResult<T> {
        let guard = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard
            .as_ref()
            .map(f)
            .ok_or_else(|| PyRuntimeError::new_err("the sandbox is closed"))
    }
}

fn display(path: std::path::PathBuf) -> String {
    path.to_string_lossy().into_owned()
}

#[pymethods]
impl PyCodexSandbox {
    #[new]
    #[pyo3(signature = (binary, base_url, *, dir = None, config = Vec::new(), rust_log = None))]
    fn new(
        binary: String,
        base_url: String,
        dir: Option<std::path::PathBuf>,
        config: Vec<(String, String)>,
        rust_log: Option<String>,
    ) -> PyResult<Self> {
        let mut sandbox = match dir {
            Some(dir) => kit::CodexSandbox::new_in(dir, binary, base_url)?,
            None => kit::CodexSandbox::new(binary, base_url)?,
        };
        for (key, value) in &config {
            sandbox = sandbox.config(key, value);
        }
        if let Some(filter) = rust_log {
            sandbox = sandbox.rust_log(filter);
        }
        Ok(Self {
            inner: Mutex::new(Some(sandbox)),
        })
    }

    /// The temporary root holding the directories.
    #[getter]
    fn root(&self) -> PyResult<String> {
        self.with(|s| display(s.root().to_path_buf()))
    }

    /// The app-server's ``CODEX_HOME``.
    #[getter]
    fn codex_home(&self) -> PyResult<String> {
        self.with(|s| display(s.codex_home()))
    }

    /// The app-server's ``HOME`` (empty).
    #[getter]
    fn home(&self) -> PyResult<String> {
        self.with(|s| display(s.home()))
    }

    /// The app-server's ``TMPDIR`` (a sibling of ``CODEX_HOME``).
    #[getter]
    fn tmp_dir(&self) -> PyResult<String> {
        self.with(|s| display(s.tmp_dir()))
    }

    /// The app-server's working directory, and the natural ``cwd`` of its threads.
    #[getter]
    fn workdir(&self) -> PyResult<String> {
        self.with(|s| display(s.workdir()))
    }

    /// The ``codex`` binary it launches.
    #[getter]
    fn binary(&self) -> PyResult<String> {
        self.with(|s| display(s.binary().to_path_buf()))
    }

    /// The ``-c`` overrides (without the ``-c``), in order.
    fn config_overrides(&self) -> PyResult<Vec<String>> {
        self.with(kit::CodexSandbox::config_overrides)
    }

    /// The launch: ``(argv, env, cwd)`` — the whole command line (the binary first), the
    /// environment it needs (``PATH``, ``HOME``, ``CODEX_HOME``, ``TMPDIR``, ``RUST_LOG``,
    /// ``LANG``) and its working directory.
    fn launch(&self) -> PyResult<Launch> {
        self.with(|s| {
            let launch = s.launch();
            let mut argv = vec![display(launch.program)];
            argv.extend(launch.args);
            (argv, launch.env, display(launch.cwd))
        })
    }

    /// Removes the directories. Idempotent.
    fn close(&self) {
        let sandbox = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        drop(sandbox);
    }
}

/// A sandbox's launch as Python gets it: `(argv, env, cwd)`.
type Launch = (Vec<String>, Vec<(String, String)>, String);

/// Registers the classes in the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMockModel>()?;
    m.add_class::<PyMockResponse>()?;
    m.add_class::<PyMatcher>()?;
    m.add_class::<PyStallGate>()?;
    m.add_class::<PyRecordedRequest>()?;
    m.add_class::<PyCodexSandbox>()?;
    Ok(())
}
