//! [`Matcher`], which requests a scripted answer applies to.

use crate::mock::recorded::RecordedRequest;
use std::fmt;
use std::sync::Arc;

/// Which requests a scripted answer applies to (see [`MockModel::route`](crate::MockModel::route)).
///
/// ```
/// use codex_client_testkit::Matcher;
///
/// let for_thread_a = Matcher::user_text_contains("[thread-a]");
/// # let _ = for_thread_a;
/// ```
#[derive(Clone)]
pub enum Matcher {
    /// Every request.
    Any,
    /// The latest user message of the request's `input` contains this text. Tool-call follow-up
    /// requests keep the same latest user message, so they match too.
    UserTextContains(String),
    /// The `session-id` header (codex sends the thread id there) equals this.
    SessionId(String),
    /// Any predicate over the recorded request.
    Custom(Arc<dyn Fn(&RecordedRequest) -> bool + Send + Sync>),
}

impl Matcher {
    /// [`Matcher::UserTextContains`].
    ///
    /// ```
    /// # use codex_client_testkit::Matcher;
    /// let m = Matcher::user_text_contains("marker");
    /// # let _ = m;
    /// ```
    pub fn user_text_contains(text: impl Into<String>) -> Self {
        Self::UserTextContains(text.into())
    }

    /// [`Matcher::SessionId`].
    ///
    /// ```
    /// # use codex_client_testkit::Matcher;
    /// let m = Matcher::session_id("019a-thread-id");
    /// # let _ = m;
    /// ```
    pub fn session_id(thread_id: impl Into<String>) -> Self {
        Self::SessionId(thread_id.into())
    }

    /// [`Matcher::Custom`].
    ///
    /// ```
    /// # use codex_client_testkit::Matcher;
    /// let follow_ups = Matcher::custom(|req| req.ends_with_tool_output());
    /// # let _ = follow_ups;
    /// ```
    pub fn custom(predicate: impl Fn(&RecordedRequest) -> bool + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(predicate))
    }

    /// Whether `request` is one this matcher applies to.
    ///
    /// ```
    /// # use codex_client_testkit::Matcher;
    /// # use codex_client_testkit::RecordedRequest;
    /// let req = RecordedRequest::from_body(serde_json::json!({"input": []}));
    /// assert!(Matcher::Any.matches(&req));
    /// assert!(!Matcher::user_text_contains("x").matches(&req));
    /// ```
    pub fn matches(&self, request: &RecordedRequest) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::UserTextContains(text) => request
                .last_user_text()
                .is_some_and(|user| user.contains(text.as_str())),
            Matcher::SessionId(id) => request.session_id() == Some(id.as_str()),
            Matcher::Custom(predicate) => predicate(request),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Any => f.write_str("Any"),
            Matcher::UserTextContains(t) => f.debug_tuple("UserTextContains").field(t).finish(),
            Matcher::SessionId(t) => f.debug_tuple("SessionId").field(t).finish(),
            Matcher::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}
