//! Workspace integration tests: real plugins, real SQLite, real HTTP over
//! loopback to mock provider servers. Build the plugins first:
//! `just build-plugins` (or `just test`, which does).

mod anthropic;
mod architecture;
mod bridge;
mod calls;
mod cli;
mod discord;
mod feeds;
mod ftp;
mod gemini;
mod matrix;
mod oauth;
mod ollama;
mod openai;
mod pipeline;
mod registry;
mod reload;
mod replicas;
mod s3;
mod sameday;
mod sandbox;
mod scaffold;
mod security;
mod serve;
mod sftp;
mod shopify;
mod smtp;
mod storage;
mod stripe;
mod support;
mod telegram;
mod vault;
mod wasi_http;
mod webdav;
mod webhooks;
mod whatsapp;
mod woocommerce;
