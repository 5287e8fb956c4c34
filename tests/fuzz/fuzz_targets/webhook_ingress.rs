//! The webhook ingress as a provider (or anyone holding the URL) reaches
//! it: arbitrary methods, headers and bodies through the WooCommerce
//! plugin's `webhook-handshake` and `verify` (one call, as the inbox makes
//! it) and `parse`, in the sandbox. Never a fault; the handshake answers
//! only WooCommerce's unsigned ping, `verify` accepts only a body signed
//! with the connection's secret; `parse` of what passed either yields
//! events or says what is wrong.
#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use patchbay::types::{Header, InboundRequest};
use patchbay::{CallError, ConnectOptions, Connection, Credentials, Reception, Settings};

const SECRET: &str = "fuzz-webhook-secret";

struct Ingress {
    runtime: tokio::runtime::Runtime,
    connection: Connection,
}

static INGRESS: LazyLock<Ingress> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let woocommerce = patchbay_fuzz::PLUGINS
        .iter()
        .find(|p| p.key() == "shop/woocommerce")
        .expect("the WooCommerce plugin is built (`just build-plugins`)");
    let dir = woocommerce.path().parent().unwrap().to_path_buf();
    let host = runtime
        .block_on(
            patchbay::Host::builder()
                .plugins_dir(&dir)
                .compile_cache(dir.join("../fuzz-compile-cache"))
                .build(),
        )
        .unwrap();
    let connection = host
        .connect_with(
            "shop/woocommerce",
            Credentials::from([
                ("consumer_key", "ck"),
                ("consumer_secret", "cs"),
                ("webhook_secret", SECRET),
            ]),
            Settings::from([("domain".to_string(), "https://shop.example.com".to_string())]),
            ConnectOptions {
                signing_fields: vec!["webhook_secret".into()],
                ..ConnectOptions::default()
            },
        )
        .unwrap();
    Ingress { runtime, connection }
});

fn signature(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(headers) = u.arbitrary::<Vec<(String, String)>>() else {
        return;
    };
    let Ok(mut body) = u.arbitrary::<Vec<u8>>() else {
        return;
    };
    let method = if u.arbitrary::<bool>().unwrap_or(true) {
        "POST"
    } else {
        "GET"
    };
    let query = u.arbitrary::<String>().unwrap_or_default();
    let sign = u.arbitrary::<bool>().unwrap_or(false);
    let mut headers: Vec<Header> = headers
        .into_iter()
        .take(16)
        .map(|(name, value)| Header { name, value })
        .collect();
    if sign {
        // Often a body signed as WooCommerce signs it, to reach `parse`.
        headers.retain(|h| !h.name.eq_ignore_ascii_case("x-wc-webhook-signature"));
        headers.push(Header {
            name: "x-wc-webhook-signature".into(),
            value: signature(&body),
        });
        if u.arbitrary::<bool>().unwrap_or(false) {
            body =
                serde_json::to_vec(&serde_json::json!({"id": 7, "date_modified_gmt": "2026-11-30T10:00:00"})).unwrap();
            headers.retain(|h| !h.name.eq_ignore_ascii_case("x-wc-webhook-signature"));
            headers.push(Header {
                name: "x-wc-webhook-signature".into(),
                value: signature(&body),
            });
        }
    }
    let ingress = &*INGRESS;
    let port = ingress.connection.webhooks().unwrap();
    let request = InboundRequest {
        method: method.into(),
        query,
        headers,
        body,
    };
    let received = ingress.runtime.block_on(port.receive(&request));
    let (headers, body) = (&request.headers, &request.body);
    let signed = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("x-wc-webhook-signature"))
        .map(|h| h.value.trim().to_string());
    match &received {
        Ok(Reception::Answer(reply)) => {
            let ping = method == "POST"
                && signed.is_none()
                && std::str::from_utf8(body)
                    .ok()
                    .and_then(|b| b.strip_prefix("webhook_id="))
                    .is_some_and(|id| !id.is_empty() && id.bytes().all(|c| c.is_ascii_digit()));
            assert!(ping, "the handshake answered something that is not a ping");
            assert_eq!(reply.status, 200);
            return;
        }
        Ok(Reception::Unanswered) => {
            assert_ne!(method, "POST", "a POST is a delivery or a challenge");
            return;
        }
        Ok(Reception::Deliver(_)) => {
            assert!(
                signed.as_deref() == Some(signature(body).as_str()),
                "verify accepted a delivery that is not signed with the secret"
            );
        }
        Err(CallError::Connector(_)) => return,
        Err(other) => panic!("receiving failed without a typed error: {other}"),
    }
    match ingress.runtime.block_on(port.parse(headers, body)) {
        Ok(events) => {
            for event in events {
                assert!(!event.idempotency_key.is_empty());
                serde_json::from_str::<serde_json::Value>(&event.payload_json).expect("the payload is JSON");
            }
        }
        Err(CallError::Connector(_)) => {}
        Err(other) => panic!("parse failed without a typed error: {other}"),
    }
});
