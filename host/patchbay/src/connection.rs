//! A connection: one plugin with one set of credentials and settings,
//! ready for calls. Every call of a connection goes through the sandbox's
//! one call path ([`Sandbox::run`]) with the connection's grant.

use std::sync::Arc;

use patchbay_contract::Interface;
use patchbay_contract::bindings::exports::patchbay::connector as exports;
use patchbay_contract::types::ConnectionTest;
use patchbay_sandbox::{CallError, CallGrant, CallOptions, CallState, GuestFuture, Sandbox, answered, trapped};
use wasmtime::Store;
use wasmtime::component::Instance;

use crate::oauth::OAuthSession;
use crate::plugin::Plugin;

/// A connection to a provider, ready for calls. Cheap to clone.
#[derive(Clone)]
pub struct Connection {
    pub(crate) plugin: Arc<Plugin>,
    pub(crate) grant: Arc<CallGrant>,
    pub(crate) oauth: Option<Arc<OAuthSession>>,
    pub(crate) sandbox: Arc<Sandbox>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("provider", &self.plugin.key())
            .field("id", &self.grant.id)
            .finish()
    }
}

/// Options of a new connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// A stable id; derived from the provider, settings and credentials when
    /// `None`. The connection's `kv` data lives under its id.
    pub id: Option<String>,
    /// Credential fields the plugin may read through `config` (an account
    /// id, a client id for an authorization URL). Every other credential is
    /// secret, whatever the plugin's manifest says: secrecy is the
    /// operator's decision.
    pub public_fields: Vec<String>,
    /// Credential fields the plugin may use as keys through `crypto` (a
    /// webhook signing secret). `crypto` refuses every other field, so a
    /// plugin cannot turn a password into a verifier or a signing oracle.
    pub signing_fields: Vec<String>,
}

impl Connection {
    /// The connection's id.
    pub fn id(&self) -> &str {
        &self.grant.id
    }

    /// The plugin behind it.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// Everything `reader` yields, spooled into a blob in the host's blob
    /// spool ([`HostBuilder::blob_dir`](crate::HostBuilder::blob_dir)):
    /// a stream to save through [`blob_storage`](Self::blob_storage), which
    /// a retried upload can read again.
    pub async fn blob_from_reader(
        &self,
        reader: impl tokio::io::AsyncRead + Unpin,
    ) -> std::io::Result<patchbay_outbound::Blob> {
        patchbay_outbound::Blob::from_reader(&self.sandbox.services().spool, reader).await
    }

    /// Whether the plugin exports `interface` (a port or a capability).
    pub fn supports(&self, interface: Interface) -> bool {
        self.plugin.exports(interface)
    }

    /// Whether a user must authorize the connection (OAuth2 authorization
    /// code) before it can be used.
    pub(crate) fn needs_authorization(&self) -> bool {
        self.oauth.as_ref().is_some_and(|session| session.needs_authorization())
    }

    /// The connection's OAuth session, when its plugin uses OAuth.
    pub(crate) fn oauth_session(&self) -> Result<&OAuthSession, crate::oauth::OAuthError> {
        self.oauth.as_deref().ok_or_else(|| {
            crate::oauth::OAuthError::Config(format!(
                "the plugin {} declares no OAuth2 endpoints and no `oauth` capability",
                self.plugin.key()
            ))
        })
    }

    /// Runs one call of this connection: `invoke` does the guest work.
    pub(crate) async fn run<'env, T, F>(&self, options: CallOptions, invoke: F) -> Result<T, CallError>
    where
        T: Send + 'env,
        F: for<'a> FnOnce(&'a mut Store<CallState>, &'a Instance, &'a &'env ()) -> GuestFuture<'a, T>,
    {
        self.sandbox
            .run(self.plugin.target(), Some(Arc::clone(&self.grant)), options, invoke)
            .await
    }

    fn connector(&self) -> &exports::connector::GuestIndices {
        self.plugin
            .guests
            .connector
            .as_ref()
            .expect("every plugin exports connector")
    }

    /// Checks the credentials with the provider (`connector.test-connection`).
    pub async fn test(&self) -> Result<ConnectionTest, CallError> {
        let indices = self.connector();
        self.run(CallOptions::default(), |store, instance, _| {
            Box::pin(async move {
                let guest = trapped(indices.load(&mut *store, instance))?;
                answered(guest.call_test_connection(&mut *store).await)
            })
        })
        .await
    }
}
