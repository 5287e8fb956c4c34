//! Any exported function called with JSON in and JSON out: the arguments
//! are converted through the component's own parameter types, the result
//! back to JSON (see [`patchbay_contract::bridge`]).

use patchbay_contract::Interface;
use patchbay_contract::bridge::{self, BridgeError};
use patchbay_contract::types::{ConnectorError, ProviderFailure};
use patchbay_sandbox::{CallError, CallOptions, trapped};
use serde_json::Value;
use wasmtime::component::{Type, Val};

use crate::connection::Connection;

impl Connection {
    /// Calls `interface.function` (e.g. `shop.get-orders`) with JSON
    /// arguments keyed by parameter name, and returns the result as JSON.
    /// A `result` whose error is the plugin's `connector-error` becomes
    /// [`CallError::Connector`]; input that does not fit the parameters is
    /// [`CallError::Input`], naming the place (`query.since: expected a
    /// string or null, found 42`).
    ///
    /// ```no_run
    /// # async fn demo(conn: patchbay::Connection) -> anyhow::Result<()> {
    /// use serde_json::json;
    /// let page = conn
    ///     .call_json("shop.get-orders", &json!({ "query": { "since": "2026-01-01T00:00:00Z" } }))
    ///     .await?;
    /// for order in page["items"].as_array().into_iter().flatten() {
    ///     println!("{} {}", order["order-id"], order["total"]);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn call_json(&self, target: &str, input: &Value) -> Result<Value, CallError> {
        self.call_json_with(target, input, CallOptions::default()).await
    }

    /// [`call_json`](Self::call_json) for a function that streams
    /// (`streaming.stream-complete`): each chunk goes to `sink` as the plugin
    /// emits it, before the call returns. Dropping the receiver stops the
    /// call: the plugin's next read of the provider's answer fails, and the
    /// upstream request is closed.
    pub async fn call_json_streaming(
        &self,
        target: &str,
        input: &Value,
        sink: tokio::sync::mpsc::UnboundedSender<patchbay_contract::types::StreamChunk>,
    ) -> Result<Value, CallError> {
        self.call_json_with(target, input, CallOptions { stream: Some(sink) })
            .await
    }

    async fn call_json_with(&self, target: &str, input: &Value, options: CallOptions) -> Result<Value, CallError> {
        let (interface, function) = target.split_once('.').ok_or_else(|| {
            CallError::Unsupported(format!(
                "{target:?} is not of the form port.function, e.g. shop.get-orders"
            ))
        })?;
        let interface = Interface::from_name(interface)
            .ok_or_else(|| CallError::Unsupported(format!("{interface:?} is not an interface of the contract")))?;
        if !self.plugin.exports(interface) {
            return Err(CallError::Unsupported(format!(
                "{} does not export `{interface}`",
                self.plugin.key()
            )));
        }
        let index = self.plugin.func_index(interface, function)?;
        self.run(options, |store, instance, _| {
            Box::pin(async move {
                let func = instance
                    .get_func(&mut *store, index)
                    .ok_or_else(|| CallError::Unsupported(format!("`{interface}.{function}` is not a function")))?;
                let ty = func.ty(&*store);
                let params = arguments(ty.params().map(|(n, t)| (n.to_string(), t)).collect(), input)?;
                let types: Vec<Type> = ty.results().collect();
                let mut results = vec![Val::Bool(false); types.len()];
                trapped(func.call_async(&mut *store, &params, &mut results).await)?;
                match (types.first(), results.first()) {
                    (None, _) | (_, None) => Ok(Value::Null),
                    (Some(Type::Result(result_ty)), Some(Val::Result(outcome)))
                        if is_connector_error(result_ty.err()) =>
                    {
                        match outcome {
                            Ok(ok) => Ok(match (result_ty.ok(), ok) {
                                (Some(t), Some(v)) => bridge::from_val(&t, v),
                                _ => Value::Null,
                            }),
                            Err(err) => Err(CallError::Connector(connector_error(err.as_deref()))),
                        }
                    }
                    (Some(ty), Some(val)) => Ok(bridge::from_val(ty, val)),
                }
            })
        })
        .await
    }
}

/// Converts a JSON object of named arguments into parameter values.
pub fn arguments(params: Vec<(String, Type)>, input: &Value) -> Result<Vec<Val>, BridgeError> {
    let empty = serde_json::Map::new();
    let object = match input {
        Value::Object(object) => object,
        Value::Null => &empty,
        other => {
            return Err(BridgeError {
                path: "input".into(),
                message: format!(
                    "expected an object of arguments ({}), found {}",
                    params.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
                    if other.is_array() { "an array" } else { "a scalar" }
                ),
            });
        }
    };
    if let Some(unknown) = object.keys().find(|k| !params.iter().any(|(n, _)| n == *k)) {
        return Err(BridgeError {
            // An empty name is still a place (found by the json_bridge fuzzer).
            path: if unknown.is_empty() {
                "\"\"".into()
            } else {
                unknown.clone()
            },
            message: format!(
                "is not a parameter; the parameters are {}",
                if params.is_empty() {
                    "none".to_string()
                } else {
                    params.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
        });
    }
    params
        .iter()
        .map(|(name, ty)| {
            let value = object.get(name).unwrap_or(&Value::Null);
            if value.is_null() && !matches!(ty, Type::Option(_)) {
                return Err(BridgeError {
                    path: name.clone(),
                    message: "is required".into(),
                });
            }
            bridge::to_val(ty, value, name)
        })
        .collect()
}

fn is_connector_error(ty: Option<Type>) -> bool {
    match ty {
        Some(Type::Variant(v)) => {
            let names: Vec<&str> = v.cases().map(|c| c.name).collect();
            names.contains(&"auth") && names.contains(&"provider") && names.contains(&"not-found")
        }
        _ => false,
    }
}

/// Rebuilds the typed connector error from its component value.
fn connector_error(val: Option<&Val>) -> ConnectorError {
    let text = |v: Option<&Val>| match v {
        Some(Val::String(s)) => s.clone(),
        _ => String::new(),
    };
    let failure = |v: Option<&Val>| {
        let mut failure = ProviderFailure {
            status: None,
            message: String::new(),
        };
        if let Some(Val::Record(fields)) = v {
            for (name, value) in fields {
                match (name.as_str(), value) {
                    ("status", Val::Option(Some(s))) => {
                        if let Val::U16(code) = **s {
                            failure.status = Some(code);
                        }
                    }
                    ("message", Val::String(m)) => failure.message = m.clone(),
                    _ => {}
                }
            }
        }
        failure
    };
    let Some(Val::Variant(case, payload)) = val else {
        return ConnectorError::Provider(ProviderFailure {
            status: None,
            message: "the plugin returned a malformed error".into(),
        });
    };
    let payload = payload.as_deref();
    match case.as_str() {
        "auth" => ConnectorError::Auth(text(payload)),
        "config" => ConnectorError::Config(text(payload)),
        "validation" => ConnectorError::Validation(text(payload)),
        "rate-limited" => ConnectorError::RateLimited(match payload {
            Some(Val::Option(Some(v))) => match **v {
                Val::U32(s) => Some(s),
                _ => None,
            },
            _ => None,
        }),
        "provider" => ConnectorError::Provider(failure(payload)),
        "permanent" => ConnectorError::Permanent(failure(payload)),
        "unsupported" => ConnectorError::Unsupported(text(payload)),
        "webhook-verification" => ConnectorError::WebhookVerification(text(payload)),
        "not-found" => ConnectorError::NotFound(text(payload)),
        other => ConnectorError::Provider(ProviderFailure {
            status: None,
            message: format!("unknown error case {other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_argument_is_named_even_when_its_name_is_empty() {
        let error = arguments(Vec::new(), &serde_json::json!({ "": 1 })).unwrap_err();
        assert_eq!(error.path, "\"\"");
        assert_eq!(error.to_string(), "\"\": is not a parameter; the parameters are none");
    }
}
