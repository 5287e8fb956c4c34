//! The interfaces a plugin can export: `connector`, one port per family,
//! capabilities, and `actions`.

use std::fmt;

use crate::types::Family;

macro_rules! interfaces {
    ($($variant:ident => $name:literal, $port:literal;)*) => {
        /// An interface of the contract that a plugin may export.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Interface {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Interface {
            /// Every exportable interface.
            pub const ALL: &'static [Interface] = &[$(Interface::$variant),*];

            /// The WIT name, e.g. `bulk-update`.
            pub fn name(self) -> &'static str {
                match self { $(Interface::$variant => $name),* }
            }

            /// Whether this is the port of a family (or `actions`).
            pub fn is_port(self) -> bool {
                match self { $(Interface::$variant => $port),* }
            }
        }
    };
}

interfaces! {
    Connector => "connector", false;
    Shop => "shop", true;
    Courier => "courier", true;
    Payment => "payment", true;
    Messaging => "messaging", true;
    Storage => "storage", true;
    Llm => "llm", true;
    Feed => "feed", true;
    Actions => "actions", true;
    Webhooks => "webhooks", false;
    OAuth => "oauth", false;
    BulkUpdate => "bulk-update", false;
    InvoiceAttachment => "invoice-attachment", false;
    ProductFeed => "product-feed", false;
    Embedding => "embedding", false;
    Transcription => "transcription", false;
    Streaming => "streaming", false;
    ImageGeneration => "image-generation", false;
}

impl Interface {
    /// Looks an interface up by its WIT name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|i| i.name() == name)
    }

    /// The port a family's plugins export.
    pub fn port_of(family: Family) -> Self {
        match family {
            Family::Shop => Self::Shop,
            Family::Courier => Self::Courier,
            Family::Payment => Self::Payment,
            Family::Messaging => Self::Messaging,
            Family::Storage => Self::Storage,
            Family::Llm => Self::Llm,
            Family::Feed => Self::Feed,
            Family::Other => Self::Actions,
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The family's name as written in provider keys (`shop/woocommerce`).
pub fn family_name(family: Family) -> &'static str {
    match family {
        Family::Shop => "shop",
        Family::Courier => "courier",
        Family::Payment => "payment",
        Family::Messaging => "messaging",
        Family::Storage => "storage",
        Family::Llm => "llm",
        Family::Feed => "feed",
        Family::Other => "other",
    }
}

/// The contract package's namespace and name.
pub const CONTRACT_PACKAGE: &str = "patchbay:connector";

/// The contract version this host's bindings are generated from: the one
/// place the host names it.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// Contract versions this host serves.
pub const SUPPORTED_CONTRACT_VERSIONS: &[&str] = &[CONTRACT_VERSION];

/// Interfaces of the contract that the host provides as imports (with
/// functions) or that only define types.
pub const HOST_IMPORTS: &[&str] = &[
    "http",
    "kv",
    "log",
    "config",
    "crypto",
    "stream-sink",
    "types",
    "shop-types",
    "courier-types",
    "payment-types",
    "messaging-types",
    "storage-types",
    "llm-types",
    "feed-types",
];

/// Splits `patchbay:connector/shop@0.1.0` into `("patchbay:connector/shop", Some("0.1.0"))`.
pub fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    }
}
