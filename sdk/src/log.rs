//! Structured logging. The host tags each record with the plugin, the
//! connection and the call, and scrubs secret values.

use crate::bindings::imports::patchbay::connector::log as wit;

pub use wit::Level;

/// Writes a record with structured fields.
pub fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<wit::Field> = fields
        .iter()
        .map(|(key, value)| wit::Field {
            key: (*key).into(),
            value: (*value).into(),
        })
        .collect();
    wit::write(level, message, &fields);
}

/// Writes a debug record.
pub fn debug(message: &str) {
    write(Level::Debug, message, &[]);
}

/// Writes an info record.
pub fn info(message: &str) {
    write(Level::Info, message, &[]);
}

/// Writes a warning.
pub fn warn(message: &str) {
    write(Level::Warn, message, &[]);
}

/// Writes an error record.
pub fn error(message: &str) {
    write(Level::Error, message, &[]);
}
