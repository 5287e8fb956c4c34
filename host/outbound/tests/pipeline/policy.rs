//! What the policy refuses and what it keeps from the upstream and the
//! logs: derived headers, redirects across origins, private addresses,
//! secrets in logs, SigV4 scope, secrets filled into bodies, the SMTP door.

use super::*;

#[tokio::test]
async fn headers_the_host_derives_are_refused_before_anything_is_sent() {
    let (url, up) = start().await;
    for (name, value) in [
        ("Host", "admin.internal"),
        ("content-length", "0"),
        ("Transfer-Encoding", "chunked"),
        ("X-Forwarded-For", "10.0.0.1"),
        ("Proxy-Authorization", "Basic x"),
    ] {
        let mut request = get_request(&format!("{url}/status/forged/200"));
        request.headers.push((name.to_string(), value.to_string()));
        match pipeline(true).send(&context(&[&url]), request).await {
            Err(OutboundError::InvalidRequest(why)) => assert!(why.contains(name), "{why}"),
            other => panic!("{name}: expected invalid-request, got {other:?}"),
        }
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 0, "nothing reached the upstream");
    let echoed = pipeline(true)
        .send(&context(&[&url]), get_request(&format!("{url}/echo")))
        .await
        .unwrap();
    let host_line = format!("host: {}", url.trim_start_matches("http://"));
    assert!(
        String::from_utf8_lossy(&echoed.body).contains(&host_line),
        "the host derives Host from the URL"
    );
}

#[tokio::test]
async fn redirects_are_rechecked_hop_by_hop_and_drop_credentials_across_origins() {
    let (url, up) = start().await;
    let (other, other_up) = start().await;
    let pipeline = pipeline(true);
    let outside = pipeline
        .send(
            &context(&[&url]),
            get_request(&format!("{url}/redirect/{}", format!("{other}/echo").replace('/', "!"))),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&outside, OutboundError::Denied(why) if why.contains("redirect refused")),
        "{outside:?}"
    );

    let mut request = get_request(&format!("{url}/redirect/{}", format!("{other}/echo").replace('/', "!")));
    request.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let followed = pipeline.send(&context(&[&url, &other]), request).await.unwrap();
    let body = String::from_utf8(followed.body).unwrap();
    assert!(body.starts_with("/echo"), "followed to the other origin: {body}");
    assert!(
        other_up.saw("/echo") && !other_up.saw(TOKEN),
        "the credential stayed behind"
    );

    let mut same = get_request(&format!("{url}/redirect/!echo"));
    same.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let kept = pipeline.send(&context(&[&url]), same).await.unwrap();
    assert!(
        up.saw(&format!("authorization: Bearer {TOKEN}")),
        "same origin: the credential goes along"
    );
    let echoed = String::from_utf8(kept.body).unwrap();
    assert!(
        echoed.contains("authorization: Bearer [redacted]") && !echoed.contains(TOKEN),
        "and its echo is scrubbed: {echoed}"
    );
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed_literal_or_resolved() {
    let (url, up) = start().await;
    let port = url.rsplit(':').next().unwrap();
    for target in [url.clone(), format!("http://localhost:{port}")] {
        let refused = pipeline(false)
            .send(&context(&[&target]), get_request(&format!("{target}/echo")))
            .await
            .unwrap_err();
        assert!(matches!(&refused, OutboundError::Denied(_)), "{target}: {refused:?}");
    }
    let outside = pipeline(true)
        .send(
            &context(&["https://api.example.com"]),
            get_request(&format!("{url}/echo")),
        )
        .await
        .unwrap_err();
    assert!(matches!(outside, OutboundError::Denied(_)), "not in the grant");
    assert_eq!(up.hits.load(Ordering::SeqCst), 0, "nothing reached the upstream");
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_filled_in_by_the_pipeline_never_reach_its_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (url, up) = start().await;
    let pipeline = pipeline(true);
    let ctx = context(&[&url]);
    let mut request = get_request(&format!("{url}/echo/{{{{secret.token}}}}?k={{{{secret.token}}}}"));
    request.headers.push(("x-key".into(), "{{secret.token}}".into()));
    request.auth = Some(AuthScheme::Bearer { field: "token".into() });
    let echoed = pipeline.send(&ctx, request).await.unwrap();
    assert!(up.saw(TOKEN), "the upstream got it");
    assert!(
        !String::from_utf8(echoed.body).unwrap().contains(TOKEN),
        "and cannot hand it back"
    );
    let mut failing = get_request(&format!("{url}/status/a/503?k={{{{secret.token}}}}"));
    failing.auth = Some(AuthScheme::Query {
        param: "key".into(),
        field: "token".into(),
    });
    pipeline.send(&ctx, failing).await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("outbound_attempt"), "the attempts were logged:\n{logs}");
    assert!(!logs.contains(TOKEN), "a secret reached the logs:\n{logs}");
}

#[tokio::test]
async fn sigv4_is_never_signed_for_sts_or_iam_unless_the_operator_allows_it() {
    let (url, up) = start().await;
    let mut ctx = context(&[&url]);
    ctx.credentials = Arc::new(Credentials::from([("key", "AKIDEXAMPLE"), ("secret", "wJalrXUtnFEMI")]));
    let signed = |service: &str| {
        let mut request = get_request(&format!("{url}/echo"));
        request.auth = Some(AuthScheme::AwsSigV4 {
            service: service.into(),
            region: "us-east-1".into(),
            key_id_field: "key".into(),
            secret_field: "secret".into(),
            session_token_field: None,
        });
        request
    };
    let pipeline = pipeline(true);
    for service in ["sts", "IAM"] {
        let refused = pipeline.send(&ctx, signed(service)).await.unwrap_err();
        assert!(
            matches!(&refused, OutboundError::Denied(why) if why.contains("operator")),
            "{refused:?}"
        );
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 0);
    pipeline
        .send(&ctx, signed("s3"))
        .await
        .expect("an ordinary service is signed");

    ctx.sigv4_services = Some(Arc::from(vec!["s3".to_string()]));
    let pinned = pipeline.send(&ctx, signed("sqs")).await.unwrap_err();
    assert!(
        matches!(&pinned, OutboundError::Denied(why) if why.contains("only for s3")),
        "{pinned:?}"
    );
    ctx.sigv4_services = Some(Arc::from(vec!["sts".to_string()]));
    pipeline
        .send(&ctx, signed("sts"))
        .await
        .expect("the operator allowed it");
}

/// A login that takes the password in its JSON body: the plugin names the
/// field in `patchbay-body-secrets` and writes the placeholder; the host
/// fills it in, JSON-escaped, and sends neither the header nor the
/// placeholder. Unnamed placeholders (text the plugin did not write) stay as
/// they are, and the filled body never follows a redirect to another origin.
#[tokio::test]
async fn named_body_secrets_are_filled_in_and_never_leave_the_origin() {
    let (url, up) = start().await;
    let (other, other_up) = start().await;
    let pipeline = pipeline(true);
    let mut ctx = context(&[&url, &other]);
    ctx.credentials = Arc::new(Credentials::from([("token", TOKEN), ("password", "pa\"ss-word")]));
    let login = |to: String, named: &str| OutboundRequest {
        method: reqwest::Method::POST,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("patchbay-body-secrets".into(), named.into()),
        ],
        body: Some(
            br#"{"password":"{{secret.password}}","message":"{{secret.token}}"}"#
                .to_vec()
                .into(),
        ),
        ..get_request(&to)
    };
    pipeline
        .send(&ctx, login(format!("{url}/login"), "password"))
        .await
        .unwrap();
    let seen = up.seen.lock().unwrap().pop().unwrap();
    assert!(
        seen.ends_with(r#"{"password":"pa\"ss-word","message":"{{secret.token}}"}"#),
        "{seen}"
    );
    assert!(
        !seen.contains("patchbay-body-secrets"),
        "the header is the host's: {seen}"
    );

    // Not named: nothing is filled in.
    pipeline.send(&ctx, login(format!("{url}/login"), "")).await.unwrap();
    assert!(up.seen.lock().unwrap().pop().unwrap().contains("{{secret.password}}"));
    // A named field the connection lacks is refused before sending.
    let mut absent = login(format!("{url}/login"), "password, absent");
    absent.body = Some(br#"{"password":"{{secret.absent}}"}"#.to_vec().into());
    let refused = pipeline.send(&ctx, absent).await.unwrap_err();
    assert!(
        matches!(&refused, OutboundError::Denied(why) if why.contains("\"absent\"")),
        "{refused:?}"
    );

    // A 307 to another origin would carry the password along: refused.
    let away = format!("{url}/keep-method/{}", format!("{other}/login").replace('/', "!"));
    let refused = pipeline.send(&ctx, login(away, "password")).await.unwrap_err();
    assert!(
        matches!(&refused, OutboundError::Denied(why) if why.contains("another origin")),
        "{refused:?}"
    );
    assert!(!other_up.saw("pa\"ss-word"), "the password stayed behind");
}

/// The SMTP door refuses before connecting: a server outside the grant, a
/// login without TLS, a private address unless allowed, a credential field
/// the connection lacks, a malformed address.
#[tokio::test]
async fn the_smtp_door_refuses_what_the_policy_forbids_before_connecting() {
    use patchbay_outbound::{MailError, MailLogin, MailSecurity, OutboundMail};
    let mail = |server: &str, security: MailSecurity, login: Option<(&str, &str)>| OutboundMail {
        server: Url::parse(server).unwrap(),
        security,
        login: login.map(|(user, password)| MailLogin {
            user_field: user.into(),
            password_field: password.into(),
        }),
        envelope_from: "shop@example.com".into(),
        envelope_to: vec!["ada@example.org".into()],
        message: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
    };
    let strict = pipeline(false);
    let ctx = context(&["smtp://mail.example.com:587", "smtp://127.0.0.1:2525"]);
    let outside = strict
        .send_mail(&ctx, mail("smtp://other.example.com:587", MailSecurity::StartTls, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&outside, MailError::Denied(why) if why.contains("smtp://other.example.com:587")),
        "{outside:?}"
    );
    let clear = strict
        .send_mail(
            &ctx,
            mail("smtp://mail.example.com", MailSecurity::None, Some(("token", "token"))),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&clear, MailError::Denied(why) if why.contains("never sent in clear")),
        "{clear:?}"
    );
    let private = strict
        .send_mail(&ctx, mail("smtp://127.0.0.1:2525", MailSecurity::StartTls, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&private, MailError::Denied(why) if why.contains("loopback")),
        "{private:?}"
    );
    let unknown = pipeline(true)
        .send_mail(
            &ctx,
            mail(
                "smtp://127.0.0.1:2525",
                MailSecurity::StartTls,
                Some(("token", "absent")),
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, MailError::Denied(why) if why.contains("\"absent\"")),
        "{unknown:?}"
    );
    let mut bad = mail("smtp://mail.example.com", MailSecurity::StartTls, None);
    bad.envelope_to = vec!["not an address".into()];
    let bad = strict.send_mail(&ctx, bad).await.unwrap_err();
    assert!(
        matches!(&bad, MailError::InvalidRequest(why) if why.starts_with("envelope-to[0]")),
        "{bad:?}"
    );
}
