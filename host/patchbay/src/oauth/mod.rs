//! OAuth2 for connections: standard flows done by the host from the
//! manifest ([`standard`]: authorization code with PKCE, client
//! credentials, refresh before expiry and once on a 401), non-standard ones
//! described by the plugin ([`custom`]), and the session that keeps a
//! connection's tokens ([`session`]). Plugins ask for the `oauth2` auth
//! scheme and never see a token; stored connections keep their tokens
//! sealed in the vault ([`tokens`]).

pub(crate) mod custom;
pub(crate) mod http;
pub(crate) mod session;
pub(crate) mod standard;
pub(crate) mod tokens;

pub(crate) use custom::OAuthPlugin;
pub(crate) use http::TokenHttp;
pub(crate) use session::{OAuthFlow, OAuthSession};
pub(crate) use standard::{OAuthEndpoints, state_and_pkce};
pub use tokens::OAuthError;
pub(crate) use tokens::{TokenVault, unix_now};
