//! `codex_client::Error` → the exceptions of the Python module `codex_client.errors`, made by
//! its `_from_native(kind, message, code, data_json)` so that the classes and the JSON-RPC code
//! mapping live in one place, in Python, as in `openai_codex`.

use codex_client::Error;
use pyo3::prelude::*;

/// The Python exception for `err`.
pub(crate) fn to_py(err: Error) -> PyErr {
    let (kind, code, data) = match &err {
        Error::Rpc { error, .. } => (
            "rpc",
            Some(error.code),
            error.data.as_ref().map(|d| d.to_string()),
        ),
        Error::Closed(_) | Error::Transport(_) => ("closed", None, None),
        Error::Timeout { .. } => ("timeout", None, None),
        Error::WriteQueueFull { .. } => ("overloaded", None, None),
        Error::BinaryNotFound { .. } => ("not_found", None, None),
        Error::Spawn { .. } => ("spawn", None, None),
        Error::Connect(_) => ("connect", None, None),
        Error::Decode { .. }
        | Error::Encode { .. }
        | Error::Protocol(_)
        | Error::LineTooLong { .. } => ("protocol", None, None),
        Error::InvalidOptions(_) => ("invalid", None, None),
        Error::Lagged(_) => ("lagged", None, None),
        _ => ("other", None, None),
    };
    // An RPC error keeps the server's own message; everything else the SDK's description.
    let message = match &err {
        Error::Rpc { error, .. } => error.message.clone(),
        other => other.to_string(),
    };
    Python::attach(|py| match make(py, kind, &message, code, data.as_deref()) {
        Ok(exc) => exc,
        Err(import_failed) => import_failed,
    })
}

fn make(
    py: Python<'_>,
    kind: &str,
    message: &str,
    code: Option<i64>,
    data: Option<&str>,
) -> PyResult<PyErr> {
    let errors = py.import("codex_client.errors")?;
    let exc = errors.call_method1("_from_native", (kind, message, code, data))?;
    Ok(PyErr::from_value(exc))
}
