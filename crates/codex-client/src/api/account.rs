//! Login and account: API-key login, the ChatGPT browser and device-code flows as handles
//! ([`ChatgptLogin`], [`DeviceCodeLogin`]), account read (with token refresh), logout, and the
//! rate-limit and usage reads: [`Account`], obtained by [`Codex::account`].
//!
//! # Secrets
//!
//! An API key is taken as a [`Secret`], whose `Debug` and `Display` print `[REDACTED]`: the key
//! cannot reach a log by formatting any type of this module. The generated wire types that carry
//! credentials ([`ApiKeyLoginAccountParams`](crate::protocol::ApiKeyLoginAccountParams), the
//! Bedrock and ChatGPT-token params, ...) redact them in their `Debug` output too (the generator
//! does it for every field named like a credential), and the connection core logs methods and
//! ids, never params — so sending `account/login/start` yourself through [`Codex::request`] is
//! just as safe.
//!
//! # The browser flows
//!
//! `account/login/start` answers at once with a login id (and the URL to open, or the device
//! code to show); the outcome comes later as an `account/login/completed` notification carrying
//! that id. A handle subscribes to the connection's global notifications *before* the request is
//! sent, so a completion that races the response is not lost, and [`wait`](ChatgptLogin::wait)
//! returns only the completion with its own id. [`cancel`](ChatgptLogin::cancel) sends
//! `account/login/cancel`; the server then completes the login with `success: false`, which
//! `wait` still returns.
//!
//! Offline facts (codex 0.163.0): the ChatGPT browser flow needs no network to start — the
//! server opens its callback listener on `127.0.0.1:1455` and returns the `auth.openai.com`
//! URL — so start and cancel work in a sandbox; the device-code flow asks `auth.openai.com`
//! for a code before it answers, and fails with a JSON-RPC internal error (`-32603`, "failed to
//! request device code") without network.

use super::codex::Codex;
use crate::error::{Error, Result};
use crate::proto::methods::{
    AccountLoginCancel, AccountLoginStart, AccountLogout, AccountRateLimitsRead, AccountRead,
    AccountUsageRead,
};
use crate::proto::{
    AccountLoginCompletedNotification, ApiKeyLoginAccountParams, CancelLoginAccountParams,
    CancelLoginAccountStatus, ChatgptLoginAccountParams, GetAccountParams,
    GetAccountRateLimitsParams, GetAccountRateLimitsResponse, GetAccountResponse,
    GetAccountTokenUsageParams, GetAccountTokenUsageResponse, LoginAccountParams,
    LoginAccountResponse, NoParams, ServerNotification,
};
use crate::router::NotificationStream;
use futures::StreamExt;

/// A secret string (an API key, a token). `Debug` and `Display` print `[REDACTED]`; the value
/// is reachable only through [`expose`](Self::expose).
///
/// ```
/// use codex_client::Secret;
/// let key = Secret::new("sk-live-123");
/// assert_eq!(format!("{key:?} {key}"), "Secret([REDACTED]) [REDACTED]");
/// assert_eq!(key.expose(), "sk-live-123");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().into_boxed_str())
    }

    /// The secret value itself. Every use of it is a place to check for leaks.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// What both login handles share: the login id and the subscription that sees its completion.
struct LoginWaiter {
    codex: Codex,
    login_id: String,
    events: NotificationStream,
}

impl LoginWaiter {
    async fn wait(&mut self) -> Result<AccountLoginCompletedNotification> {
        while let Some(event) = self.events.next().await {
            match event {
                Ok(n) => {
                    if let ServerNotification::AccountLoginCompleted(done) = &*n
                        && done.login_id.as_deref() == Some(self.login_id.as_str())
                    {
                        return Ok(AccountLoginCompletedNotification::clone(done));
                    }
                }
                Err(Error::Lagged(n)) => {
                    tracing::warn!(
                        login_id = %self.login_id,
                        missed = n,
                        "login handle lagged; its completion may have been among the dropped events"
                    );
                }
                Err(err) => return Err(err),
            }
        }
        Err(Error::Protocol(format!(
            "the notification stream ended before account/login/completed of login {}",
            self.login_id
        )))
    }

    async fn cancel(&self) -> Result<CancelLoginAccountStatus> {
        let params = CancelLoginAccountParams {
            login_id: self.login_id.clone(),
        };
        Ok(self
            .codex
            .request::<AccountLoginCancel>(params)
            .await?
            .status)
    }
}

macro_rules! login_handle_common {
    ($ty:ident) => {
        impl $ty {
            /// The login id the server assigned (the one `account/login/completed` carries).
            pub fn login_id(&self) -> &str {
                &self.waiter.login_id
            }

            /// Waits for this login's `account/login/completed` (other logins' completions are
            /// skipped) and returns it: `success`, and the server's `error` text when it failed
            /// or was cancelled. Bound it with `tokio::time::timeout` — a user may never finish
            /// in the browser — and [`cancel`](Self::cancel) on timeout. Fails with
            /// [`Error::Closed`] when the connection ends first.
            pub async fn wait(&mut self) -> Result<AccountLoginCompletedNotification> {
                self.waiter.wait().await
            }

            /// Cancels the login (`account/login/cancel`). The server then completes it with
            /// `success: false`, which [`wait`](Self::wait) returns.
            pub async fn cancel(&self) -> Result<CancelLoginAccountStatus> {
                self.waiter.cancel().await
            }
        }
    };
}

/// A ChatGPT browser login in progress: open [`auth_url`](Self::auth_url), then
/// [`wait`](Self::wait) (or [`cancel`](Self::cancel)).
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// use std::time::Duration;
/// let mut login = codex.account().login_chatgpt().await?;
/// println!("Open {} in a browser", login.auth_url());
/// match tokio::time::timeout(Duration::from_secs(300), login.wait()).await {
///     Ok(done) => println!("logged in: {}", done?.success),
///     Err(_) => println!("gave up: {}", login.cancel().await?),
/// }
/// # Ok(()) }
/// ```
pub struct ChatgptLogin {
    waiter: LoginWaiter,
    auth_url: String,
}

impl std::fmt::Debug for ChatgptLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatgptLogin")
            .field("login_id", &self.waiter.login_id)
            .field("auth_url", &self.auth_url)
            .finish_non_exhaustive()
    }
}

impl ChatgptLogin {
    /// The URL to open in a browser (the server listens for the OAuth callback on loopback).
    pub fn auth_url(&self) -> &str {
        &self.auth_url
    }
}

login_handle_common!(ChatgptLogin);

/// A ChatGPT device-code login in progress: show [`user_code`](Self::user_code) and
/// [`verification_url`](Self::verification_url) to the user, then [`wait`](Self::wait).
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// let mut login = codex.account().login_device_code().await?;
/// println!("Go to {} and enter {}", login.verification_url(), login.user_code());
/// let done = login.wait().await?;
/// println!("logged in: {}", done.success);
/// # Ok(()) }
/// ```
pub struct DeviceCodeLogin {
    waiter: LoginWaiter,
    verification_url: String,
    user_code: String,
}

impl std::fmt::Debug for DeviceCodeLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCodeLogin")
            .field("login_id", &self.waiter.login_id)
            .field("verification_url", &self.verification_url)
            .field("user_code", &self.user_code)
            .finish_non_exhaustive()
    }
}

impl DeviceCodeLogin {
    /// Where the user enters the code.
    pub fn verification_url(&self) -> &str {
        &self.verification_url
    }

    /// The one-time code the user enters after signing in.
    pub fn user_code(&self) -> &str {
        &self.user_code
    }
}

login_handle_common!(DeviceCodeLogin);

fn unexpected(what: &str, response: &LoginAccountResponse) -> Error {
    Error::Protocol(format!(
        "account/login/start ({what}) answered with type `{}`",
        response.tag()
    ))
}

/// Login and account calls of a [`Codex`] ([`Codex::account`]). A borrowed handle: copy it
/// freely.
///
/// Every call fails with [`Error::Rpc`] when the server refuses it (a bad key, rate limits
/// without a ChatGPT login, the device code flow without network), with [`Error::Protocol`]
/// when `account/login/start` answers with another login type than asked, and with
/// [`Error::Closed`] / [`Error::Timeout`] as any request does.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// let account = codex.account();
/// if account.read().await?.account.is_none() {
///     account.login_api_key(std::env::var("OPENAI_API_KEY").expect("OPENAI_API_KEY")).await?;
/// }
/// println!("{:?}", account.read().await?.account);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Account<'a> {
    codex: &'a Codex,
}

impl<'a> Account<'a> {
    pub(crate) fn new(codex: &'a Codex) -> Self {
        Self { codex }
    }

    /// The account (`account/read`): `account` is `None` when logged out, and
    /// `requires_openai_auth` says whether the configured provider needs a login at all.
    pub async fn read(self) -> Result<GetAccountResponse> {
        self.read_account(false).await
    }

    /// [`read`](Self::read), after the server refreshed managed ChatGPT tokens
    /// (`refreshToken: true`).
    pub async fn read_refreshed(self) -> Result<GetAccountResponse> {
        self.read_account(true).await
    }

    async fn read_account(self, refresh_token: bool) -> Result<GetAccountResponse> {
        let params = GetAccountParams {
            refresh_token: Some(refresh_token),
        };
        self.codex.request::<AccountRead>(params).await
    }

    /// Logs in with an OpenAI API key (`account/login/start`, type `apiKey`). The server stores
    /// it in its `CODEX_HOME` and uses it as the bearer token of providers that need OpenAI auth.
    /// The key is never formatted or logged (see [`Secret`]).
    pub async fn login_api_key(self, api_key: impl Into<Secret>) -> Result<()> {
        let api_key = api_key.into();
        let params = LoginAccountParams::ApiKey(ApiKeyLoginAccountParams {
            api_key: api_key.expose().to_owned(),
        });
        match self.codex.request::<AccountLoginStart>(params).await? {
            LoginAccountResponse::ApiKey => Ok(()),
            other => Err(unexpected("apiKey", &other)),
        }
    }

    /// Starts a ChatGPT browser login and returns its handle (URL to open, `wait`, `cancel`).
    pub async fn login_chatgpt(self) -> Result<ChatgptLogin> {
        let events = self.codex.notifications();
        let params = LoginAccountParams::Chatgpt(ChatgptLoginAccountParams::default());
        match self.codex.request::<AccountLoginStart>(params).await? {
            LoginAccountResponse::Chatgpt(r) => Ok(ChatgptLogin {
                waiter: LoginWaiter {
                    codex: self.codex.clone(),
                    login_id: r.login_id,
                    events,
                },
                auth_url: r.auth_url,
            }),
            other => Err(unexpected("chatgpt", &other)),
        }
    }

    /// Starts a ChatGPT device-code login and returns its handle (code and URL to show,
    /// `wait`, `cancel`). The server asks `auth.openai.com` for the code before answering
    /// (without network: [`Error::Rpc`], code `-32603`).
    pub async fn login_device_code(self) -> Result<DeviceCodeLogin> {
        let events = self.codex.notifications();
        let params = LoginAccountParams::ChatgptDeviceCode;
        match self.codex.request::<AccountLoginStart>(params).await? {
            LoginAccountResponse::ChatgptDeviceCode(r) => Ok(DeviceCodeLogin {
                waiter: LoginWaiter {
                    codex: self.codex.clone(),
                    login_id: r.login_id,
                    events,
                },
                verification_url: r.verification_url,
                user_code: r.user_code,
            }),
            other => Err(unexpected("chatgptDeviceCode", &other)),
        }
    }

    /// Logs out (`account/logout`): the stored credentials are removed.
    pub async fn logout(self) -> Result<()> {
        self.codex.request::<AccountLogout>(NoParams).await?;
        Ok(())
    }

    /// The account's rate limits (`account/rateLimits/read`). Needs a ChatGPT login: with an
    /// API key or no login the server answers with a JSON-RPC error (`-32600`).
    pub async fn rate_limits(self) -> Result<GetAccountRateLimitsResponse> {
        self.codex
            .request::<AccountRateLimitsRead>(GetAccountRateLimitsParams::default())
            .await
    }

    /// Token usage (`account/usage/read`): account-wide (`None`), or the estimate for one
    /// thread. Needs a ChatGPT login, like [`rate_limits`](Self::rate_limits).
    pub async fn token_usage(
        self,
        thread_id: Option<&str>,
    ) -> Result<GetAccountTokenUsageResponse> {
        let params = GetAccountTokenUsageParams {
            thread_id: thread_id.map(str::to_owned),
        };
        self.codex.request::<AccountUsageRead>(params).await
    }
}

#[cfg(test)]
mod tests {
    //! The login handles against a scripted server (memory transport), and the proof that an
    //! API key never shows in `Debug`, `Display` or tracing output.
    use super::*;
    use crate::core::{Connection, ConnectionConfig};
    use crate::{MemoryPeer, Transport};
    use serde_json::{Value, json};
    use std::sync::{Arc, Mutex};

    const KEY: &str = "sk-test-7f3a9c1e-DO-NOT-LEAK";

    async fn codex() -> (Codex, MemoryPeer) {
        let (transport, peer) = Transport::memory();
        let conn = Connection::connect(transport, ConnectionConfig::new().handshake(false))
            .await
            .expect("connect");
        (Codex::from_connection(conn), peer)
    }

    async fn next_request(peer: &mut MemoryPeer) -> (Value, String, Value) {
        let msg = peer.recv_json().await.expect("a request");
        let method = msg["method"].as_str().unwrap_or_default().to_owned();
        (msg["id"].clone(), method, msg["params"].clone())
    }

    fn respond(peer: &MemoryPeer, id: &Value, result: Value) {
        peer.send_json(&json!({"id": id, "result": result}));
    }

    fn completed(login_id: &str, success: bool) -> Value {
        json!({"method": "account/login/completed",
               "params": {"loginId": login_id, "success": success,
                          "error": if success { Value::Null } else { json!("Login was not completed") }}})
    }

    #[tokio::test]
    async fn device_code_handle_waits_for_its_own_login_id_and_cancels() {
        let (codex, mut peer) = codex().await;
        let c = codex.clone();
        let start = tokio::spawn(async move { c.account().login_device_code().await });
        let (id, method, params) = next_request(&mut peer).await;
        assert_eq!(method, "account/login/start");
        assert_eq!(params, json!({"type": "chatgptDeviceCode"}));
        // A completion racing the response, for another login, then the response.
        peer.send_json(&completed("someone-else", true));
        respond(
            &peer,
            &id,
            json!({"type": "chatgptDeviceCode", "loginId": "L1",
            "verificationUrl": "https://auth.example/device", "userCode": "ABCD-1234"}),
        );
        let mut login = start.await.unwrap().expect("device code login");
        assert_eq!(login.login_id(), "L1");
        assert_eq!(login.verification_url(), "https://auth.example/device");
        assert_eq!(login.user_code(), "ABCD-1234");

        let cancel = {
            let c = codex.clone();
            tokio::spawn(async move {
                c.request::<AccountLoginCancel>(CancelLoginAccountParams {
                    login_id: "L1".into(),
                })
                .await
            })
        };
        let (id, method, params) = next_request(&mut peer).await;
        assert_eq!(method, "account/login/cancel");
        assert_eq!(params, json!({"loginId": "L1"}));
        respond(&peer, &id, json!({"status": "canceled"}));
        assert_eq!(
            cancel.await.unwrap().unwrap().status,
            CancelLoginAccountStatus::Canceled
        );
        peer.send_json(&completed("L1", false));
        let done = tokio::time::timeout(std::time::Duration::from_secs(10), login.wait())
            .await
            .expect("completion")
            .expect("wait");
        assert_eq!(done.login_id.as_deref(), Some("L1"));
        assert!(!done.success);
    }

    #[tokio::test]
    async fn chatgpt_handle_cancel_sends_its_login_id() {
        let (codex, mut peer) = codex().await;
        let c = codex.clone();
        let start = tokio::spawn(async move { c.account().login_chatgpt().await });
        let (id, _, params) = next_request(&mut peer).await;
        assert_eq!(params, json!({"type": "chatgpt"}));
        respond(
            &peer,
            &id,
            json!({"type": "chatgpt", "loginId": "L2", "authUrl": "https://auth.example/x"}),
        );
        let login = start.await.unwrap().expect("chatgpt login");
        assert_eq!(login.auth_url(), "https://auth.example/x");
        let cancel = tokio::spawn(async move { login.cancel().await });
        let (id, method, params) = next_request(&mut peer).await;
        assert_eq!(
            (method.as_str(), params),
            ("account/login/cancel", json!({"loginId": "L2"}))
        );
        respond(&peer, &id, json!({"status": "notFound"}));
        assert_eq!(
            cancel.await.unwrap().unwrap(),
            CancelLoginAccountStatus::NotFound
        );
    }

    #[tokio::test]
    async fn an_unexpected_login_response_is_a_protocol_error() {
        let (codex, mut peer) = codex().await;
        let c = codex.clone();
        let start = tokio::spawn(async move { c.account().login_chatgpt().await });
        let (id, _, _) = next_request(&mut peer).await;
        respond(&peer, &id, json!({"type": "apiKey"}));
        assert!(matches!(start.await.unwrap(), Err(Error::Protocol(_))));
    }

    /// Records every event and span field of every level, formatted with `Debug`.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<String>>);

    struct Fields<'a>(&'a mut String);

    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!(" {}={:?}", field.name(), value));
        }
    }

    impl tracing::Subscriber for Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            let mut out = self.0.lock().unwrap();
            out.push_str(&format!("\nspan {}", span.metadata().name()));
            span.record(&mut Fields(&mut out));
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
            values.record(&mut Fields(&mut self.0.lock().unwrap()));
        }
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            let mut out = self.0.lock().unwrap();
            out.push_str(&format!("\nevent {}", event.metadata().target()));
            event.record(&mut Fields(&mut out));
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn an_api_key_never_shows_in_debug_display_or_tracing() {
        let secret = Secret::new(KEY);
        let secret_from: Secret = String::from(KEY).into();
        for text in [
            format!("{secret:?}"),
            format!("{secret}"),
            format!("{secret:#?}"),
            format!("{secret_from:?}"),
            format!("{:?}", Some(&secret)),
        ] {
            assert!(!text.contains(KEY) && !text.contains("sk-test"), "{text}");
        }
        assert_eq!(secret.expose(), KEY);

        // The whole login over a scripted server, with every tracing event and span of every
        // level captured (current-thread runtime: the subscriber sees the reader and writer
        // tasks too).
        //
        // While exactly one dispatcher is registered, tracing computes the interest of a newly
        // registered callsite from the registering thread's default alone, and caches it. Other
        // tests of this binary run at the same time with no subscriber and register the
        // connection's callsites: with only the capture registered they would be cached as
        // "nobody wants this" and its spans skipped. A second registered dispatcher makes
        // tracing ask every live dispatcher instead.
        let _second_dispatcher = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::new());
        let capture = Capture::default();
        let dispatch = tracing::Dispatch::new(capture.clone());
        let wire = tracing::dispatcher::with_default(&dispatch, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let (codex, mut peer) = codex().await;
                let c = codex.clone();
                let login =
                    tokio::spawn(async move { c.account().login_api_key(Secret::new(KEY)).await });
                let line = peer.recv().await.expect("the login request");
                let msg: Value = serde_json::from_str(&line).unwrap();
                respond(&peer, &msg["id"], json!({"type": "apiKey"}));
                login.await.unwrap().expect("login");
                // A failing login too: errors carry the method, not the params.
                let c = codex.clone();
                let failing = tokio::spawn(async move { c.account().login_api_key(KEY).await });
                let msg = peer.recv_json().await.unwrap();
                peer.send_json(
                    &json!({"id": msg["id"], "error": {"code": -32600, "message": "bad key"}}),
                );
                let err = failing.await.unwrap().unwrap_err();
                assert!(!format!("{err} {err:?}").contains(KEY));
                codex.close().await;
                line
            })
        });
        // The key went over the wire (that is the point), and nowhere else.
        assert!(wire.contains(KEY));
        let logged = capture.0.lock().unwrap().clone();
        assert!(
            logged.contains("account/login/start"),
            "the capture saw the request: {logged}"
        );
        assert!(
            !logged.contains(KEY),
            "the key leaked into tracing output: {logged}"
        );
    }
}
