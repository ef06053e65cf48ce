//! The mock model: a real HTTP server on `127.0.0.1` that speaks the OpenAI Responses API the way
//! codex uses it (`POST /v1/responses`, answered with Server-Sent Events).
//!
//! Tests script it ([`MockModel::push`], [`MockModel::route`], [`MockModel::set_default`]) and
//! inspect what codex sent ([`MockModel::requests`], [`MockModel::wait_for_requests`]).
//!
//! How an answer is chosen for a request, first match wins:
//!
//! 1. the routes, in the order they were added, whose [`Matcher`] matches and that still have an
//!    answer (a route made with [`route`](MockModel::route) or
//!    [`route_sequence`](MockModel::route_sequence) is used up answer by answer,
//!    [`route_always`](MockModel::route_always) never is);
//! 2. the FIFO filled by [`push`](MockModel::push);
//! 3. the default answer ([`set_default`](MockModel::set_default); initially a short message).
//!
//! Connections are not kept alive: every response ends by closing its connection, as the
//! HTTP/1.0-style mock the reference runs used did. A client that drops a stream mid-way closes the
//! connection, which ends that response (see [`StallGate::wait_disconnected`]). Dropping the
//! [`MockModel`] stops the listener and ends every open stream, stalled ones included.

mod recorded;
mod script;
mod sse;

pub use recorded::RecordedRequest;
pub use script::{ExecCommand, Matcher, MockResponse, StallGate};

use crate::Error;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use script::{Plan, Step};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A mock Responses-API model server on `127.0.0.1`, on an ephemeral port.
///
/// Needs a tokio runtime (with the `net` and `time` drivers) to start and to run.
///
/// ```
/// use codex_client_testkit::{Matcher, MockModel, MockResponse};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), codex_client_testkit::Error> {
/// let mock = MockModel::start().await?;
/// mock.push(MockResponse::deltas(["Hello ", "world"]));
/// mock.route(Matcher::user_text_contains("[b]"), MockResponse::message("for b"));
/// assert!(mock.base_url().starts_with("http://127.0.0.1:"));
/// assert!(mock.requests().is_empty());
/// # Ok(()) }
/// ```
pub struct MockModel {
    shared: Arc<MockState>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

struct MockState {
    script: Mutex<Script>,
    requests: Mutex<Recorded>,
    /// The number of requests received so far (forgotten ones included), for waiters.
    seen: watch::Sender<usize>,
    /// Numbers the responses (`resp_mock_<n>`), from 1.
    next_response: AtomicU64,
}

/// The requests kept for inspection: those received since the last
/// [`MockModel::forget_requests`], which were preceded by `forgotten` others.
#[derive(Default)]
struct Recorded {
    forgotten: usize,
    kept: Vec<RecordedRequest>,
}

struct Script {
    routes: Vec<Route>,
    queue: VecDeque<MockResponse>,
    default: MockResponse,
}

struct Route {
    matcher: Matcher,
    answers: VecDeque<MockResponse>,
    always: Option<MockResponse>,
}

impl Script {
    fn choose(&mut self, request: &RecordedRequest) -> MockResponse {
        for route in &mut self.routes {
            if !route.matcher.matches(request) {
                continue;
            }
            if let Some(answer) = route.answers.pop_front() {
                return answer;
            }
            if let Some(answer) = &route.always {
                return answer.clone();
            }
        }
        self.queue
            .pop_front()
            .unwrap_or_else(|| self.default.clone())
    }
}

/// Locks a mutex, ignoring poisoning: the data (scripts, request logs) stays consistent because
/// every critical section is a single push/pop.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MockModel {
    /// The answer used when nothing else is scripted: "Hello from the mock model." in 5 deltas.
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// assert_eq!(MockModel::default_response().text().as_deref(), Some("Hello from the mock model."));
    /// ```
    pub fn default_response() -> MockResponse {
        MockResponse::deltas(["Hello", " from", " the", " mock", " model."])
    }

    /// Binds `127.0.0.1:0` and starts serving.
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// assert!(mock.addr().ip().is_loopback());
    /// # Ok(()) }
    /// ```
    pub async fn start() -> Result<Self, Error> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(MockState {
            script: Mutex::new(Script {
                routes: Vec::new(),
                queue: VecDeque::new(),
                default: Self::default_response(),
            }),
            requests: Mutex::new(Recorded::default()),
            seen: watch::Sender::new(0),
            next_response: AtomicU64::new(1),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let accept = tokio::spawn(accept_loop(listener, shared.clone(), shutdown_rx));
        Ok(Self {
            shared,
            addr,
            shutdown,
            accept,
        })
    }

    /// The address the server listens on.
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// assert_ne!(mock.addr().port(), 0);
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/v1`: the provider's `base_url`.
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// assert_eq!(mock.base_url(), format!("http://127.0.0.1:{}/v1", mock.addr().port()));
    /// # Ok(()) }
    /// ```
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues an answer for the next request no route claims.
    ///
    /// ```
    /// # use codex_client_testkit::{MockModel, MockResponse};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// mock.push(MockResponse::exec_command("touch marker"));
    /// mock.push(MockResponse::message("Created the marker."));
    /// # Ok(()) }
    /// ```
    pub fn push(&self, response: MockResponse) {
        lock(&self.shared.script).queue.push_back(response);
    }

    /// Sets the answer used when no route and no queued answer applies.
    ///
    /// ```
    /// # use codex_client_testkit::{MockModel, MockResponse};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// mock.set_default(MockResponse::http_error(500, "always failing"));
    /// # Ok(()) }
    /// ```
    pub fn set_default(&self, response: MockResponse) {
        lock(&self.shared.script).default = response;
    }

    /// Answers the next request that `matcher` matches with `response` (once).
    ///
    /// ```
    /// # use codex_client_testkit::{Matcher, MockModel, MockResponse};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// mock.route(Matcher::user_text_contains("[a]"), MockResponse::message("A"));
    /// # Ok(()) }
    /// ```
    pub fn route(&self, matcher: Matcher, response: MockResponse) {
        self.route_sequence(matcher, [response]);
    }

    /// Answers the requests that `matcher` matches with `responses`, one each, in order (e.g. a
    /// tool call, then the message after the tool ran: the follow-up request keeps the same user
    /// text).
    ///
    /// ```
    /// # use codex_client_testkit::{Matcher, MockModel, MockResponse};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// mock.route_sequence(
    ///     Matcher::user_text_contains("[tool]"),
    ///     [MockResponse::exec_command("echo hi"), MockResponse::message("It said hi.")],
    /// );
    /// # Ok(()) }
    /// ```
    pub fn route_sequence(
        &self,
        matcher: Matcher,
        responses: impl IntoIterator<Item = MockResponse>,
    ) {
        lock(&self.shared.script).routes.push(Route {
            matcher,
            answers: responses.into_iter().collect(),
            always: None,
        });
    }

    /// Answers every request that `matcher` matches with `response`.
    ///
    /// ```
    /// # use codex_client_testkit::{Matcher, MockModel, MockResponse};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// mock.route_always(Matcher::session_id("thr_1"), MockResponse::message("always me"));
    /// # Ok(()) }
    /// ```
    pub fn route_always(&self, matcher: Matcher, response: MockResponse) {
        lock(&self.shared.script).routes.push(Route {
            matcher,
            answers: VecDeque::new(),
            always: Some(response),
        });
    }

    /// Every request received so far, in arrival order.
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// assert_eq!(mock.requests().len(), mock.request_count());
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).kept.clone()
    }

    /// Drops the requests recorded so far, to bound the mock's memory in long runs (every
    /// request codex sends carries the whole conversation, so thousands of turns add up).
    /// Counting goes on: [`request_count`](Self::request_count) and the indices of later
    /// requests ([`RecordedRequest::index`]) still count the forgotten ones, and
    /// [`requests`](Self::requests) returns only what came after.
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// mock.forget_requests();
    /// assert!(mock.requests().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn forget_requests(&self) {
        let mut recorded = lock(&self.shared.requests);
        recorded.forgotten += recorded.kept.len();
        recorded.kept = Vec::new();
    }

    /// How many requests were received so far.
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// assert_eq!(MockModel::start().await?.request_count(), 0);
    /// # Ok(()) }
    /// ```
    pub fn request_count(&self) -> usize {
        let recorded = lock(&self.shared.requests);
        recorded.forgotten + recorded.kept.len()
    }

    /// The latest user text of the last request received (see
    /// [`RecordedRequest::last_user_text`]).
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// assert_eq!(MockModel::start().await?.last_user_text(), None);
    /// # Ok(()) }
    /// ```
    pub fn last_user_text(&self) -> Option<String> {
        lock(&self.shared.requests)
            .kept
            .last()
            .and_then(RecordedRequest::last_user_text)
    }

    /// Waits until at least `count` requests were received (forgotten ones included), then
    /// returns those kept (all of them unless [`forget_requests`](Self::forget_requests) was
    /// called).
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// # use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// assert!(mock.wait_for_requests(1, Duration::from_millis(20)).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_requests(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedRequest>, Error> {
        let mut seen = self.shared.seen.subscribe();
        match tokio::time::timeout(timeout, seen.wait_for(|n| *n >= count)).await {
            Ok(_) => Ok(self.requests()),
            Err(_) => Err(Error::Timeout {
                waiting_for: format!(
                    "{count} request(s) to the mock model ({} received)",
                    self.request_count()
                ),
                after: timeout,
                stderr_tail: String::new(),
            }),
        }
    }

    /// Waits for the request at `index` (from 0) and returns it.
    ///
    /// ```
    /// # use codex_client_testkit::MockModel;
    /// # use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client_testkit::Error> {
    /// let mock = MockModel::start().await?;
    /// assert!(mock.wait_for_request(0, Duration::from_millis(20)).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_request(
        &self,
        index: usize,
        timeout: Duration,
    ) -> Result<RecordedRequest, Error> {
        self.wait_for_requests(index + 1, timeout).await?;
        let recorded = lock(&self.shared.requests);
        let kept = index.checked_sub(recorded.forgotten);
        kept.and_then(|at| recorded.kept.get(at))
            .cloned()
            .ok_or_else(|| Error::Timeout {
                waiting_for: format!("request {index}, which forget_requests() dropped"),
                after: timeout,
                stderr_tail: String::new(),
            })
    }
}

impl std::fmt::Debug for MockModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockModel")
            .field("addr", &self.addr)
            .field("requests", &self.request_count())
            .finish_non_exhaustive()
    }
}

impl Drop for MockModel {
    fn drop(&mut self) {
        // Connection tasks watch this and drop their connections (and open streams) at once.
        let _ = self.shutdown.send(true);
        self.accept.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<MockState>,
    shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Transient (e.g. too many open files): report, back off, carry on.
                tracing::warn!("mock model: accept failed: {err}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        tokio::spawn(serve_connection(stream, shared.clone(), shutdown.clone()));
    }
}

async fn serve_connection(
    stream: TcpStream,
    shared: Arc<MockState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service_shutdown = shutdown.clone();
    let service =
        service_fn(move |request| handle(request, shared.clone(), service_shutdown.clone()));
    let connection = http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(err) = result {
                tracing::debug!("mock model: connection ended: {err}");
            }
        }
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
}

type Body = BoxBody<Bytes, Infallible>;

async fn handle(
    request: Request<Incoming>,
    shared: Arc<MockState>,
    shutdown: watch::Receiver<bool>,
) -> Result<Response<Body>, hyper::Error> {
    let (parts, body) = request.into_parts();
    let bytes = body.collect().await?.to_bytes();
    let raw_body = String::from_utf8_lossy(&bytes).into_owned();
    let mut recorded = RecordedRequest {
        index: 0,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        raw_body,
    };
    let is_responses = parts.method == hyper::Method::POST && recorded.path == "/v1/responses";
    let answer = is_responses.then(|| lock(&shared.script).choose(&recorded));
    {
        let mut requests = lock(&shared.requests);
        recorded.index = requests.forgotten + requests.kept.len();
        requests.kept.push(recorded);
        shared
            .seen
            .send_replace(requests.forgotten + requests.kept.len());
    }
    let Some(answer) = answer else {
        let body =
            sse::http_error_body("the mock model only serves POST /v1/responses", "not_found");
        return Ok(response(404, "application/json", Full::new(body).boxed()));
    };
    let n = shared.next_response.fetch_add(1, Ordering::Relaxed);
    let Plan {
        status,
        content_type,
        steps,
    } = answer.plan(n);
    let stream = futures::stream::unfold(
        Streamer {
            steps: steps.into(),
            shutdown,
            stalled_on: None,
        },
        Streamer::next_frame,
    );
    Ok(response(
        status,
        content_type,
        StreamBody::new(stream).boxed(),
    ))
}

fn response(status: u16, content_type: &str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_str(content_type)
            .unwrap_or(hyper::header::HeaderValue::from_static("text/plain")),
    );
    headers.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-cache"),
    );
    response
}

/// Executes a plan as a body stream. When hyper drops the body before the end (the client went
/// away, or the mock shut down) while the stream is stalled, [`Drop`] tells the gate.
struct Streamer {
    steps: VecDeque<Step>,
    shutdown: watch::Receiver<bool>,
    stalled_on: Option<StallGate>,
}

impl Streamer {
    async fn next_frame(mut self) -> Option<(Result<Frame<Bytes>, Infallible>, Self)> {
        loop {
            match self.steps.pop_front()? {
                Step::Send(bytes) => return Some((Ok(Frame::data(bytes)), self)),
                Step::Sleep(delay) => {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.shutdown.wait_for(|stop| *stop) => return None,
                    }
                }
                Step::Stall(gate) => {
                    gate.note_stalled();
                    self.stalled_on = Some(gate.clone());
                    tokio::select! {
                        _ = gate.released() => self.stalled_on = None,
                        _ = self.shutdown.wait_for(|stop| *stop) => return None,
                    }
                }
            }
        }
    }
}

impl Drop for Streamer {
    fn drop(&mut self) {
        if let Some(gate) = self.stalled_on.take() {
            gate.note_disconnected();
        }
    }
}
