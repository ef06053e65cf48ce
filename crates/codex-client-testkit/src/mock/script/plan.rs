//! [`Plan`] and [`Step`]: what the server does to answer one request, and how a
//! [`MockResponse`] becomes one (the SSE events of each kind of answer, in order, paced).

use super::response::{Kind, MockResponse};
use super::stall_gate::StallGate;
use crate::mock::sse::{self, ResponseIds};
use bytes::Bytes;
use std::time::Duration;

/// What the server does to answer one request.
#[derive(Debug)]
pub(crate) struct Plan {
    pub status: u16,
    pub content_type: &'static str,
    pub steps: Vec<Step>,
}

/// One step of a [`Plan`].
#[derive(Debug)]
pub(crate) enum Step {
    Send(Bytes),
    Sleep(Duration),
    Stall(StallGate),
}

impl MockResponse {
    /// Turns the answer into the steps the server executes, using the ids of the `n`-th response.
    pub(crate) fn plan(&self, n: u64) -> Plan {
        let ids = ResponseIds::nth(n);
        let delay = self.delay;
        let mut steps = Vec::new();
        let paced = |steps: &mut Vec<Step>, bytes: Bytes| {
            if !delay.is_zero() {
                steps.push(Step::Sleep(delay));
            }
            steps.push(Step::Send(bytes));
        };
        match &self.kind {
            Kind::Message { deltas } => {
                message_head(&mut steps, &ids);
                for delta in deltas {
                    paced(&mut steps, sse::text_delta(&ids, delta));
                }
                paced(&mut steps, sse::text_done(&ids, &deltas.concat()));
                message_tail(&mut steps, &ids, &deltas.concat());
            }
            Kind::Stalled { deltas, gate } => {
                message_head(&mut steps, &ids);
                for delta in deltas {
                    paced(&mut steps, sse::text_delta(&ids, delta));
                }
                steps.push(Step::Stall(gate.clone()));
                steps.push(Step::Send(sse::text_done(&ids, &deltas.concat())));
                message_tail(&mut steps, &ids, &deltas.concat());
            }
            Kind::ExecCommand(exec) => {
                let arguments = exec.arguments();
                steps.push(Step::Send(sse::created(&ids)));
                steps.push(Step::Send(sse::function_call_added(&ids, "exec_command")));
                paced(
                    &mut steps,
                    sse::function_call_done(&ids, "exec_command", &arguments),
                );
                steps.push(Step::Send(sse::completed(&ids)));
            }
            Kind::Failed { code, message } => {
                steps.push(Step::Send(sse::created(&ids)));
                paced(&mut steps, sse::failed(&ids, code, message));
            }
            Kind::HttpError {
                status,
                message,
                error_type,
            } => {
                return Plan {
                    status: *status,
                    content_type: "application/json",
                    steps: vec![Step::Send(sse::http_error_body(message, error_type))],
                };
            }
        }
        Plan {
            status: 200,
            content_type: "text/event-stream",
            steps,
        }
    }
}

fn message_head(steps: &mut Vec<Step>, ids: &ResponseIds) {
    steps.push(Step::Send(sse::created(ids)));
    steps.push(Step::Send(sse::message_added(ids)));
    steps.push(Step::Send(sse::content_part_added(ids)));
}

fn message_tail(steps: &mut Vec<Step>, ids: &ResponseIds, text: &str) {
    steps.push(Step::Send(sse::message_done(ids, text)));
    steps.push(Step::Send(sse::completed(ids)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent_events(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .filter_map(|s| match s {
                Step::Send(b) => {
                    let text = String::from_utf8(b.to_vec()).unwrap();
                    Some(
                        text.lines()
                            .next()
                            .unwrap()
                            .trim_start_matches("event: ")
                            .to_owned(),
                    )
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn message_plan_has_the_accepted_event_sequence() {
        let plan = MockResponse::deltas(["Hello ", "world"]).plan(1);
        assert_eq!(plan.status, 200);
        assert_eq!(plan.content_type, "text/event-stream");
        assert_eq!(
            sent_events(&plan),
            [
                "response.created",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
    }

    #[test]
    fn pacing_inserts_sleeps_before_deltas() {
        let plan = MockResponse::deltas(["a", "b"])
            .with_delay(Duration::from_millis(5))
            .plan(1);
        let sleeps = plan
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Sleep(_)))
            .count();
        assert_eq!(sleeps, 3, "two deltas and the done event are paced");
    }

    #[test]
    fn http_error_plan_is_json() {
        let plan = MockResponse::http_error(400, "bad").plan(1);
        assert_eq!(plan.status, 400);
        assert_eq!(plan.content_type, "application/json");
        let Step::Send(body) = &plan.steps[0] else {
            panic!("expected a body")
        };
        let body: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["code"], serde_json::Value::Null);
    }
}
