//! Mock provider servers that serve what the real APIs serve, and helpers
//! for the workspace's integration tests.

#![recursion_limit = "256"]

pub mod discord;
pub mod files;
pub mod gemini;
pub mod hostile;
pub mod mock;
pub mod ollama;
pub mod postgres;
pub mod sameday;
pub mod shopify;
pub mod stripe;
pub mod telegram;
pub mod whatsapp;
pub mod woocommerce;
