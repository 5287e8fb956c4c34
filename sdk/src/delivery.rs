//! Sending messages one by one with one report each, as every messaging
//! plugin's `send-bulk` does.

use crate::Result;
use crate::types::{DeliveryReport, DeliveryStatus, OutboundMessage};

/// Sends each message with `send`, one report per message, in order: a
/// message the provider refuses is `rejected` (bad input, an unknown
/// recipient, a permanent refusal) or `failed` (the rest) in its report,
/// with the error's text, and the others still go; refused credentials or
/// configuration stop the batch, since no message would pass.
pub fn send_each(
    messages: &[OutboundMessage],
    send: impl Fn(&OutboundMessage) -> Result<DeliveryReport>,
) -> Result<Vec<DeliveryReport>> {
    use crate::Error;
    messages
        .iter()
        .map(|message| match send(message) {
            Ok(report) => Ok(report),
            Err(error @ (Error::Auth(_) | Error::Config(_))) => Err(error),
            Err(error) => Ok(DeliveryReport {
                message_id: message.message_id.clone(),
                status: match error {
                    Error::Validation(_) | Error::NotFound(_) | Error::Permanent(_) => DeliveryStatus::Rejected,
                    _ => DeliveryStatus::Failed,
                },
                error: Some(error.message()),
                delivered_at: None,
            }),
        })
        .collect()
}
