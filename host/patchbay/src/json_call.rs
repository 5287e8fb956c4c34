//! Any exported function called with JSON in and JSON out: the arguments
//! are converted through the component's own parameter types, the result
//! back to JSON (see [`patchbay_contract::bridge`]). Blob arguments
//! (`blob-storage.save-blob`'s `content`) are handed over beside the JSON,
//! by parameter name; a blob answer becomes `{"blob": N, "size": BYTES}` in
//! the JSON and the blob itself is `blobs[N]` of the [`JsonAnswer`].

use std::collections::BTreeMap;

use patchbay_contract::Interface;
use patchbay_contract::bridge::{self, BridgeError};
use patchbay_contract::types::{ConnectorError, ProviderFailure};
use patchbay_outbound::BlobRange;
use patchbay_sandbox::{CallError, CallOptions, CallState, trapped};
use serde_json::{Value, json};
use wasmtime::Store;
use wasmtime::component::{ResourceAny, Type, Val};

use crate::connection::Connection;

/// A function's result, still in the plugin's types: serialized (by
/// `serde`) straight into JSON text, with record fields in their WIT order,
/// or turned into a [`Value`] by [`into_value`](Self::into_value). What
/// `patchbay serve` writes into a response body without building the
/// [`Value`] tree first.
#[derive(Debug)]
pub struct JsonOutput(Output);

#[derive(Debug)]
enum Output {
    Lifted(Type, Val),
    Json(Value),
}

impl JsonOutput {
    fn json(value: Value) -> Self {
        Self(Output::Json(value))
    }

    /// The result as a JSON value.
    pub fn into_value(self) -> Value {
        match self.0 {
            Output::Lifted(ty, val) => bridge::from_val(&ty, val),
            Output::Json(value) => value,
        }
    }
}

impl serde::Serialize for JsonOutput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Output::Lifted(ty, val) => bridge::JsonOf { ty, val }.serialize(s),
            Output::Json(value) => value.serialize(s),
        }
    }
}

/// The answer of [`Connection::call_json_blobs`].
#[derive(Debug, Default)]
pub struct JsonAnswer {
    /// The result as JSON; a blob in it is `{"blob": N, "size": BYTES}`.
    pub value: Value,
    /// The blobs the answer names, by their `N`.
    pub blobs: Vec<BlobRange>,
}

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
        Ok(self.call_json_output(target, input).await?.into_value())
    }

    /// [`call_json`](Self::call_json) with the result left in the plugin's
    /// types until it is written: serializing the [`JsonOutput`] (e.g. into
    /// a response body) skips the [`Value`] tree.
    pub async fn call_json_output(&self, target: &str, input: &Value) -> Result<JsonOutput, CallError> {
        let (output, _) = self
            .call_json_with(target, input, BTreeMap::new(), CallOptions::default())
            .await?;
        Ok(output)
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
        let options = CallOptions { stream: Some(sink) };
        let (output, _) = self.call_json_with(target, input, BTreeMap::new(), options).await?;
        Ok(output.into_value())
    }

    /// [`call_json`](Self::call_json) for a function that takes or answers
    /// blobs (`blob-storage`): `blobs` holds the blob arguments by parameter
    /// name (they are not in `input`); a blob the plugin answers with is
    /// `{"blob": N, "size": BYTES}` in the JSON and `blobs[N]` of the answer.
    ///
    /// ```no_run
    /// # async fn demo(conn: patchbay::Connection) -> anyhow::Result<()> {
    /// use patchbay::outbound::Blob;
    /// use serde_json::json;
    /// let backup = Blob::from_file("backup.tar")?;
    /// let blobs = [("content".to_string(), backup.whole())].into();
    /// conn.call_json_blobs("blob-storage.save-blob", &json!({ "name": "nightly/backup.tar" }), blobs)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn call_json_blobs(
        &self,
        target: &str,
        input: &Value,
        blobs: BTreeMap<String, BlobRange>,
    ) -> Result<JsonAnswer, CallError> {
        let (output, blobs) = self
            .call_json_with(target, input, blobs, CallOptions::default())
            .await?;
        Ok(JsonAnswer {
            value: output.into_value(),
            blobs,
        })
    }

    async fn call_json_with(
        &self,
        target: &str,
        input: &Value,
        mut blobs: BTreeMap<String, BlobRange>,
        options: CallOptions,
    ) -> Result<(JsonOutput, Vec<BlobRange>), CallError> {
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
                let params: Vec<(String, Type)> = ty.params().map(|(n, t)| (n.to_string(), t)).collect();
                let params = blob_arguments(store, params, input, &mut blobs)?;
                let types: Vec<Type> = ty.results().collect();
                let mut results = vec![Val::Bool(false); types.len()];
                trapped(func.call_async(&mut *store, &params, &mut results).await)?;
                let mut answered = Vec::new();
                let output = match (types.into_iter().next(), results.into_iter().next()) {
                    (None, _) | (_, None) => JsonOutput::json(Value::Null),
                    (Some(Type::Result(result_ty)), Some(Val::Result(outcome)))
                        if is_connector_error(result_ty.err()) =>
                    {
                        match outcome {
                            Ok(ok) => match (result_ty.ok(), ok) {
                                (Some(Type::Own(_)), Some(blob)) => {
                                    JsonOutput::json(taken(store, &blob, &mut answered)?)
                                }
                                (Some(t), Some(v)) => JsonOutput(Output::Lifted(t, *v)),
                                _ => JsonOutput::json(Value::Null),
                            },
                            Err(err) => return Err(CallError::Connector(connector_error(err.as_deref()))),
                        }
                    }
                    (Some(Type::Own(_)), Some(blob)) => JsonOutput::json(taken(store, &blob, &mut answered)?),
                    (Some(ty), Some(val)) => JsonOutput(Output::Lifted(ty, val)),
                };
                Ok((output, answered))
            })
        })
        .await
    }
}

fn is_blob(ty: &Type) -> bool {
    matches!(ty, Type::Own(_) | Type::Borrow(_))
}

/// The parameter values: blob parameters from `blobs` (lent to the call),
/// the others from the JSON `input`.
fn blob_arguments(
    store: &mut Store<CallState>,
    params: Vec<(String, Type)>,
    input: &Value,
    blobs: &mut BTreeMap<String, BlobRange>,
) -> Result<Vec<Val>, CallError> {
    let (resources, plain): (Vec<_>, Vec<_>) = params.iter().cloned().partition(|(_, ty)| is_blob(ty));
    for (name, _) in &resources {
        if input.get(name).is_some() {
            return Err(BridgeError {
                path: name.clone(),
                message: "is a blob: hand it over as a file (the CLI: --blob NAME=@FILE), not in the JSON".into(),
            }
            .into());
        }
    }
    if let Some(name) = blobs.keys().find(|name| !resources.iter().any(|(n, _)| n == *name)) {
        return Err(BridgeError {
            path: name.clone(),
            message: format!(
                "is not a blob parameter; the blob parameters are {}",
                if resources.is_empty() {
                    "none".to_string()
                } else {
                    resources.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
        }
        .into());
    }
    let mut plain = arguments(plain, input)?.into_iter();
    let mut values = Vec::with_capacity(params.len());
    for (name, ty) in &params {
        if !is_blob(ty) {
            values.extend(plain.next());
            continue;
        }
        let range = blobs.remove(name).ok_or_else(|| BridgeError {
            path: name.clone(),
            message: "is required: a blob (the CLI: --blob NAME=@FILE)".into(),
        })?;
        let lent = trapped(store.data_mut().lend_blob(range))?;
        values.push(Val::Resource(trapped(ResourceAny::try_from_resource(
            lent,
            &mut *store,
        ))?));
    }
    Ok(values)
}

/// Takes a blob the plugin answered with: `{"blob": N, "size": BYTES}`.
fn taken(store: &mut Store<CallState>, val: &Val, blobs: &mut Vec<BlobRange>) -> Result<Value, CallError> {
    let Val::Resource(any) = val else {
        return Ok(Value::Null);
    };
    let resource = trapped(any.try_into_resource(&mut *store))?;
    let range = trapped(store.data_mut().take_blob(resource))?;
    let value = json!({ "blob": blobs.len(), "size": range.len() });
    blobs.push(range);
    Ok(value)
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
