//! What the mock answers, one concept a module:
//!
//! | module | owns |
//! |---|---|
//! | `response` | [`MockResponse`], one answer to one model request, and its constructors |
//! | `exec_command` | [`ExecCommand`], a scripted `exec_command` tool call |
//! | `stall_gate` | [`StallGate`], which holds a stream open until a test lets it go |
//! | `matcher` | [`Matcher`], which requests a scripted answer applies to |
//! | `plan` | turning a response into a [`Plan`] |
//!
//! A response is turned into a [`Plan`]: an HTTP status, a content type and a list of steps
//! (send these bytes, sleep, stall). The server executes the plan without knowing what kind of
//! answer it was, so adding a new kind of answer never touches the HTTP code.

mod exec_command;
mod matcher;
mod plan;
mod response;
mod stall_gate;

pub use exec_command::ExecCommand;
pub use matcher::Matcher;
pub(crate) use plan::{Plan, Step};
pub use response::MockResponse;
pub use stall_gate::StallGate;
