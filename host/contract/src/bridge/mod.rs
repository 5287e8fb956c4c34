//! The JSON bridge: any exported function called with JSON in and JSON
//! out, converted through the component's own types.
//!
//! | WIT                       | JSON                                                  |
//! |---------------------------|-------------------------------------------------------|
//! | `bool`                    | `true` / `false`                                      |
//! | integers, floats          | numbers (64-bit integers also accept digit strings)   |
//! | `char`, `string`          | strings                                               |
//! | `list<u8>`                | a base64 string (an array of numbers is accepted)     |
//! | `list<T>`, `tuple<..>`    | arrays                                                |
//! | `record`                  | an object keyed by the WIT field names (`order-id`)   |
//! | `option<T>`               | `null` or the value; a missing record field is `null` |
//! | `enum`                    | the case name: `"processing"`                         |
//! | `variant`                 | `{"case": payload}`, or `"case"` for a case without   |
//! | `result<T, E>`            | `{"ok": T}` or `{"err": E}`                            |
//! | `flags`                   | an array of flag names                                |
//! | `borrow<blob>`, `blob`    | none here: blobs travel beside the JSON (`patchbay::Connection::call_json_blobs`) |
//!
//! Errors name the offending place: `query.since: expected a string or null, found 42`.

mod schema;

use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};
use wasmtime::component::{Type, Val};

pub use schema::schema;

/// A JSON value that does not fit the WIT type it is meant for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct BridgeError {
    /// Where, as a dotted path (`query.items[2].sku`).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

fn mismatch(path: &str, expected: &str, found: &Value) -> BridgeError {
    let found = match found {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.len() > 40 => format!("a string ({} characters)", s.chars().count()),
        Value::String(s) => format!("{s:?}"),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Object(_) => "an object".to_string(),
    };
    BridgeError {
        path: display_path(path),
        message: format!("expected {expected}, found {found}"),
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "input".to_string()
    } else {
        path.to_string()
    }
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn integer<T: TryFrom<i128>>(path: &str, value: &Value, name: &str) -> Result<T, BridgeError> {
    let n: Option<i128> = match value {
        Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
        Value::String(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    };
    n.and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| mismatch(path, &format!("an integer that fits {name}"), value))
}

/// Converts JSON into a value of WIT type `ty`; `path` names the place.
pub fn to_val(ty: &Type, value: &Value, path: &str) -> Result<Val, BridgeError> {
    Ok(match ty {
        Type::Bool => Val::Bool(value.as_bool().ok_or_else(|| mismatch(path, "true or false", value))?),
        Type::S8 => Val::S8(integer(path, value, "s8")?),
        Type::U8 => Val::U8(integer(path, value, "u8")?),
        Type::S16 => Val::S16(integer(path, value, "s16")?),
        Type::U16 => Val::U16(integer(path, value, "u16")?),
        Type::S32 => Val::S32(integer(path, value, "s32")?),
        Type::U32 => Val::U32(integer(path, value, "u32")?),
        Type::S64 => Val::S64(integer(path, value, "s64")?),
        Type::U64 => Val::U64(integer(path, value, "u64")?),
        Type::Float32 => Val::Float32(value.as_f64().ok_or_else(|| mismatch(path, "a number", value))? as f32),
        Type::Float64 => Val::Float64(value.as_f64().ok_or_else(|| mismatch(path, "a number", value))?),
        Type::Char => {
            let s = value
                .as_str()
                .ok_or_else(|| mismatch(path, "a one-character string", value))?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(mismatch(path, "a one-character string", value)),
            }
        }
        Type::String => Val::String(
            value
                .as_str()
                .ok_or_else(|| mismatch(path, "a string", value))?
                .to_string(),
        ),
        Type::List(list) => {
            let element = list.ty();
            if matches!(element, Type::U8)
                && let Value::String(encoded) = value
            {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|e| BridgeError {
                        path: display_path(path),
                        message: format!("expected base64 bytes: {e}"),
                    })?;
                return Ok(Val::List(bytes.into_iter().map(Val::U8).collect()));
            }
            let items = value.as_array().ok_or_else(|| mismatch(path, "an array", value))?;
            Val::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| to_val(&element, item, &format!("{}[{i}]", display_path(path))))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Record(record) => {
            let object = value.as_object().ok_or_else(|| mismatch(path, "an object", value))?;
            let mut fields = Vec::new();
            let mut known = Vec::new();
            for field in record.fields() {
                known.push(field.name);
                let field_path = child(path, field.name);
                let field_value = object.get(field.name).unwrap_or(&Value::Null);
                if field_value.is_null() && !matches!(field.ty, Type::Option(_)) {
                    return Err(BridgeError {
                        path: field_path,
                        message: "is required".into(),
                    });
                }
                fields.push((field.name.to_string(), to_val(&field.ty, field_value, &field_path)?));
            }
            if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
                return Err(BridgeError {
                    path: child(path, unknown),
                    message: format!("is not a field here; the fields are {}", known.join(", ")),
                });
            }
            Val::Record(fields)
        }
        Type::Tuple(tuple) => {
            let items = value.as_array().ok_or_else(|| mismatch(path, "an array", value))?;
            let types: Vec<Type> = tuple.types().collect();
            if items.len() != types.len() {
                return Err(mismatch(path, &format!("an array of {}", types.len()), value));
            }
            Val::Tuple(
                types
                    .iter()
                    .zip(items)
                    .enumerate()
                    .map(|(i, (t, v))| to_val(t, v, &format!("{}[{i}]", display_path(path))))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Variant(variant) => {
            let cases: Vec<_> = variant.cases().map(|c| (c.name.to_string(), c.ty)).collect();
            let names = || {
                cases
                    .iter()
                    .map(|(n, _)| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (name, payload) = match value {
                Value::String(name) => (name.clone(), None),
                Value::Object(object) if object.len() == 1 => {
                    let (name, payload) = object.iter().next().expect("one entry");
                    (name.clone(), Some(payload))
                }
                _ => {
                    return Err(mismatch(
                        path,
                        &format!("one of {} (as \"case\" or {{\"case\": payload}})", names()),
                        value,
                    ));
                }
            };
            let Some((_, ty)) = cases.iter().find(|(n, _)| *n == name) else {
                return Err(BridgeError {
                    path: display_path(path),
                    message: format!("{name:?} is not a case; the cases are {}", names()),
                });
            };
            let payload = match (ty, payload) {
                (None, None) | (None, Some(Value::Null)) => None,
                (None, Some(_)) => {
                    return Err(BridgeError {
                        path: child(path, &name),
                        message: "this case carries no value".into(),
                    });
                }
                (Some(ty), Some(payload)) => Some(Box::new(to_val(ty, payload, &child(path, &name))?)),
                (Some(ty), None) => Some(Box::new(to_val(ty, &Value::Null, &child(path, &name))?)),
            };
            Val::Variant(name, payload)
        }
        Type::Enum(en) => {
            let name = value
                .as_str()
                .ok_or_else(|| mismatch(path, "a string naming a case", value))?;
            if !en.names().any(|n| n == name) {
                let names = en.names().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
                return Err(BridgeError {
                    path: display_path(path),
                    message: format!("{name:?} is not one of {names}"),
                });
            }
            Val::Enum(name.to_string())
        }
        Type::Option(option) => match value {
            Value::Null => Val::Option(None),
            other => Val::Option(Some(Box::new(to_val(&option.ty(), other, path)?))),
        },
        Type::Result(result) => {
            let object = value
                .as_object()
                .filter(|o| o.len() == 1)
                .ok_or_else(|| mismatch(path, "{\"ok\": ...} or {\"err\": ...}", value))?;
            let (key, inner) = object.iter().next().expect("one entry");
            let convert = |ty: Option<Type>| -> Result<Option<Box<Val>>, BridgeError> {
                match ty {
                    Some(ty) => Ok(Some(Box::new(to_val(&ty, inner, &child(path, key))?))),
                    None => Ok(None),
                }
            };
            match key.as_str() {
                "ok" => Val::Result(Ok(convert(result.ok())?)),
                "err" => Val::Result(Err(convert(result.err())?)),
                _ => return Err(mismatch(path, "{\"ok\": ...} or {\"err\": ...}", value)),
            }
        }
        Type::Flags(flags) => {
            let items = value
                .as_array()
                .ok_or_else(|| mismatch(path, "an array of flag names", value))?;
            let mut set = Vec::new();
            for item in items {
                let name = item
                    .as_str()
                    .filter(|n| flags.names().any(|f| f == *n))
                    .ok_or_else(|| {
                        mismatch(
                            path,
                            &format!("flag names among {}", flags.names().collect::<Vec<_>>().join(", ")),
                            item,
                        )
                    })?;
                set.push(name.to_string());
            }
            Val::Flags(set)
        }
        other => {
            return Err(BridgeError {
                path: display_path(path),
                message: format!("the JSON bridge cannot pass values of type {other:?}"),
            });
        }
    })
}

/// Converts a component value of WIT type `ty` to JSON, consuming it: its
/// strings and record field names move into the JSON instead of being
/// copied (a page of orders is thousands of them).
pub fn from_val(ty: &Type, val: Val) -> Value {
    let number = |n: f64| {
        serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    };
    match (ty, val) {
        (_, Val::Bool(b)) => Value::Bool(b),
        (_, Val::S8(n)) => Value::from(n),
        (_, Val::U8(n)) => Value::from(n),
        (_, Val::S16(n)) => Value::from(n),
        (_, Val::U16(n)) => Value::from(n),
        (_, Val::S32(n)) => Value::from(n),
        (_, Val::U32(n)) => Value::from(n),
        (_, Val::S64(n)) => Value::from(n),
        (_, Val::U64(n)) => Value::from(n),
        (_, Val::Float32(n)) => number(f64::from(n)),
        (_, Val::Float64(n)) => number(n),
        (_, Val::Char(c)) => Value::String(c.to_string()),
        (_, Val::String(s)) => Value::String(s),
        (Type::List(list), Val::List(items)) => {
            let element = list.ty();
            if matches!(element, Type::U8) {
                Value::String(base64_of(&items))
            } else {
                Value::Array(items.into_iter().map(|v| from_val(&element, v)).collect())
            }
        }
        (Type::Record(record), Val::Record(fields)) => Value::Object(
            record
                .fields()
                .zip(fields)
                .map(|(field, (name, v))| (name, from_val(&field.ty, v)))
                .collect::<Map<_, _>>(),
        ),
        (Type::Tuple(tuple), Val::Tuple(items)) => {
            Value::Array(tuple.types().zip(items).map(|(t, v)| from_val(&t, v)).collect())
        }
        (_, Val::Variant(name, None)) => Value::String(name),
        (Type::Variant(variant), Val::Variant(name, Some(payload))) => {
            let case_ty = variant.cases().find(|c| c.name == name).and_then(|c| c.ty);
            let payload = match case_ty {
                Some(t) => from_val(&t, *payload),
                None => Value::Null,
            };
            Value::Object(Map::from_iter([(name, payload)]))
        }
        (_, Val::Enum(name)) => Value::String(name),
        (_, Val::Option(None)) => Value::Null,
        (Type::Option(option), Val::Option(Some(v))) => from_val(&option.ty(), *v),
        (Type::Result(result), Val::Result(outcome)) => {
            let (key, ty, v) = match outcome {
                Ok(v) => ("ok", result.ok(), v),
                Err(v) => ("err", result.err(), v),
            };
            let inner = match (ty, v) {
                (Some(t), Some(v)) => from_val(&t, *v),
                _ => Value::Null,
            };
            Value::Object(Map::from_iter([(key.to_string(), inner)]))
        }
        (_, Val::Flags(names)) => Value::Array(names.into_iter().map(Value::String).collect()),
        // Types and values always agree for values the component produced;
        // anything else has no JSON form.
        _ => Value::Null,
    }
}

/// A `list<u8>`'s JSON form: its bytes in standard base64.
fn base64_of(items: &[Val]) -> String {
    let bytes: Vec<u8> = items.iter().map(|v| if let Val::U8(b) = v { *b } else { 0 }).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A component value of WIT type `ty`, serialized in its JSON form (the
/// table above) straight into any serializer, without a [`Value`] tree in
/// between: `patchbay serve` writes a function's result into the response
/// body this way. Record fields come in their WIT order.
/// `serde_json::to_value(JsonOf { .. })` equals [`from_val`].
#[derive(Debug, Clone, Copy)]
pub struct JsonOf<'a> {
    /// The value's WIT type.
    pub ty: &'a Type,
    /// The value.
    pub val: &'a Val,
}

impl JsonOf<'_> {
    fn of<'a>(ty: &'a Type, val: &'a Val) -> JsonOf<'a> {
        JsonOf { ty, val }
    }
}

impl Serialize for JsonOf<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let float = |s: S, n: f64| {
            if n.is_finite() {
                s.serialize_f64(n)
            } else {
                s.serialize_unit()
            }
        };
        match (self.ty, self.val) {
            (_, Val::Bool(b)) => s.serialize_bool(*b),
            (_, Val::S8(n)) => s.serialize_i8(*n),
            (_, Val::U8(n)) => s.serialize_u8(*n),
            (_, Val::S16(n)) => s.serialize_i16(*n),
            (_, Val::U16(n)) => s.serialize_u16(*n),
            (_, Val::S32(n)) => s.serialize_i32(*n),
            (_, Val::U32(n)) => s.serialize_u32(*n),
            (_, Val::S64(n)) => s.serialize_i64(*n),
            (_, Val::U64(n)) => s.serialize_u64(*n),
            (_, Val::Float32(n)) => float(s, f64::from(*n)),
            (_, Val::Float64(n)) => float(s, *n),
            (_, Val::Char(c)) => s.serialize_char(*c),
            (_, Val::String(text)) => s.serialize_str(text),
            (Type::List(list), Val::List(items)) => {
                let element = list.ty();
                if matches!(element, Type::U8) {
                    s.serialize_str(&base64_of(items))
                } else {
                    let mut seq = s.serialize_seq(Some(items.len()))?;
                    for item in items {
                        seq.serialize_element(&JsonOf::of(&element, item))?;
                    }
                    seq.end()
                }
            }
            (Type::Record(record), Val::Record(fields)) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (field, (name, value)) in record.fields().zip(fields) {
                    map.serialize_entry(name, &JsonOf::of(&field.ty, value))?;
                }
                map.end()
            }
            (Type::Tuple(tuple), Val::Tuple(items)) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for (ty, item) in tuple.types().zip(items) {
                    seq.serialize_element(&JsonOf::of(&ty, item))?;
                }
                seq.end()
            }
            (_, Val::Variant(name, None)) => s.serialize_str(name),
            (Type::Variant(variant), Val::Variant(name, Some(payload))) => {
                let case_ty = variant.cases().find(|c| c.name == name).and_then(|c| c.ty);
                let mut map = s.serialize_map(Some(1))?;
                match &case_ty {
                    Some(ty) => map.serialize_entry(name, &JsonOf::of(ty, payload))?,
                    None => map.serialize_entry(name, &())?,
                }
                map.end()
            }
            (_, Val::Enum(name)) => s.serialize_str(name),
            (_, Val::Option(None)) => s.serialize_unit(),
            (Type::Option(option), Val::Option(Some(value))) => JsonOf::of(&option.ty(), value).serialize(s),
            (Type::Result(result), Val::Result(outcome)) => {
                let (key, ty, value) = match outcome {
                    Ok(v) => ("ok", result.ok(), v),
                    Err(v) => ("err", result.err(), v),
                };
                let mut map = s.serialize_map(Some(1))?;
                match (&ty, value) {
                    (Some(ty), Some(value)) => map.serialize_entry(key, &JsonOf::of(ty, value))?,
                    _ => map.serialize_entry(key, &())?,
                }
                map.end()
            }
            (_, Val::Flags(names)) => s.collect_seq(names),
            // Types and values always agree for values the component
            // produced; anything else has no JSON form.
            _ => s.serialize_unit(),
        }
    }
}
