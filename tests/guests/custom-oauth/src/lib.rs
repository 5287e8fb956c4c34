//! A plugin whose provider speaks OAuth its own way: the token endpoint
//! takes a JSON body with the client id and secret in it (as Notion's and
//! TikTok's do) instead of a form with HTTP Basic. The plugin describes
//! the requests through the `oauth` capability; the host fills in the
//! code, the PKCE verifier and the refresh token, sends them and keeps the
//! tokens. Its one action fetches a URL with the connection's token.

use patchbay_sdk::prelude::*;
use serde_json::{Value, json};

/// The plugin.
pub struct CustomOAuth;

fn auth_server() -> Result<String> {
    Ok(config::get("auth_server")?
        .ok_or_else(|| Error::Validation("the setting auth_server is not set".into()))?
        .trim_end_matches('/')
        .to_string())
}

impl OAuth for CustomOAuth {
    fn authorize_url(params: AuthorizeParams) -> Result<String> {
        let client_id = config::get("client_id")?.unwrap_or_default();
        let mut request = Request::get(format!("{}/authorize", auth_server()?))
            .query("response_type", "code")
            .query("client_id", client_id)
            .query("redirect_uri", &params.redirect_uri)
            .query("state", &params.state)
            .query("scope", "messages.read");
        if let Some(challenge) = &params.code_challenge {
            request = request
                .query("code_challenge", challenge)
                .query("code_challenge_method", "S256");
        }
        Ok(request.url().to_string())
    }

    fn token_request(grant: TokenGrant, redirect_uri: String) -> Result<TokenRequestSpec> {
        let mut body = json!({
            "client_id": "{{secret.client_id}}",
            "client_secret": "{{secret.client_secret}}",
            "redirect_uri": redirect_uri,
        });
        match grant {
            TokenGrant::AuthorizationCode(_) => {
                body["grant_type"] = json!("authorization_code");
                body["code"] = json!("{{secret.oauth.code}}");
                body["code_verifier"] = json!("{{secret.oauth.code_verifier}}");
            }
            TokenGrant::Refresh => {
                body["grant_type"] = json!("refresh_token");
                body["refresh_token"] = json!("{{secret.oauth.refresh_token}}");
            }
        }
        Ok(TokenRequestSpec {
            url: format!("{}/token", auth_server()?),
            headers: vec![Header {
                name: "content-type".into(),
                value: "application/json".into(),
            }],
            body: body.to_string(),
            access_token_pointer: "/access_token".into(),
            refresh_token_pointer: Some("/refresh_token".into()),
            expires_in_pointer: Some("/expires_in".into()),
        })
    }
}

impl Actions for CustomOAuth {
    fn list_actions() -> Vec<ActionSpec> {
        vec![ActionSpec {
            name: "fetch".into(),
            description: "GET a URL with the connection's OAuth token".into(),
            input_schema: r#"{"type":"object","properties":{"url":{"type":"string"}}}"#.into(),
            output_schema: "{}".into(),
        }]
    }

    fn execute(name: String, input: Json) -> Result<Json> {
        if name != "fetch" {
            return Err(Error::Unsupported(format!("no action {name:?}")));
        }
        let input: Value = serde_json::from_str(&input).or_validation("input")?;
        let url = input["url"].as_str().unwrap_or_default();
        let response = Request::get(url).oauth2().send()?.error_for_status()?;
        Ok(json!({ "status": response.status, "body": response.text() }).to_string())
    }
}

impl Connector for CustomOAuth {
    fn test_connection() -> Result<ConnectionTest> {
        Ok(ConnectionTest {
            success: true,
            message: "custom-oauth".into(),
            details: "{}".into(),
        })
    }
}

patchbay_sdk::export!(CustomOAuth: actions, oauth);
