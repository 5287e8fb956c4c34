//! Generated bindings, private to the SDK. Plugin authors use the curated
//! API at the crate root; the export macro reaches in here.
//!
//! `imports` holds every type and host import. Each exportable interface has
//! a world of its own, so that a plugin's component exports exactly the
//! interfaces its `export!` invocation names.
#![allow(unsafe_code, missing_docs, clippy::all, clippy::pedantic)]

pub mod imports {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/imports",
        generate_all,
        generate_unused_types: true,
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod connector {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/connector",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_connector",
        default_bindings_module: "::patchbay_sdk::__private::bindings::connector",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod shop {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/shop",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/shop-types@0.1.4": crate::bindings::imports::patchbay::connector::shop_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_shop",
        default_bindings_module: "::patchbay_sdk::__private::bindings::shop",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod courier {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/courier",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/courier-types@0.1.4": crate::bindings::imports::patchbay::connector::courier_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_courier",
        default_bindings_module: "::patchbay_sdk::__private::bindings::courier",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod payment {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/payment",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/payment-types@0.1.4": crate::bindings::imports::patchbay::connector::payment_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_payment",
        default_bindings_module: "::patchbay_sdk::__private::bindings::payment",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod messaging {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/messaging",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/messaging-types@0.1.4": crate::bindings::imports::patchbay::connector::messaging_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_messaging",
        default_bindings_module: "::patchbay_sdk::__private::bindings::messaging",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod storage {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/storage",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/storage-types@0.1.4": crate::bindings::imports::patchbay::connector::storage_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_storage",
        default_bindings_module: "::patchbay_sdk::__private::bindings::storage",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod llm {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/llm",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/llm-types@0.1.4": crate::bindings::imports::patchbay::connector::llm_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_llm",
        default_bindings_module: "::patchbay_sdk::__private::bindings::llm",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod feed {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/feed",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/shop-types@0.1.4": crate::bindings::imports::patchbay::connector::shop_types,
            "patchbay:connector/feed-types@0.1.4": crate::bindings::imports::patchbay::connector::feed_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_feed",
        default_bindings_module: "::patchbay_sdk::__private::bindings::feed",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod webhooks {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/webhooks",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_webhooks",
        default_bindings_module: "::patchbay_sdk::__private::bindings::webhooks",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod oauth {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/oauth",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_oauth",
        default_bindings_module: "::patchbay_sdk::__private::bindings::oauth",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod bulk_update {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/bulk-update",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/shop-types@0.1.4": crate::bindings::imports::patchbay::connector::shop_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_bulk_update",
        default_bindings_module: "::patchbay_sdk::__private::bindings::bulk_update",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod invoice_attachment {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/invoice-attachment",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_invoice_attachment",
        default_bindings_module: "::patchbay_sdk::__private::bindings::invoice_attachment",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod product_feed {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/product-feed",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/feed-types@0.1.4": crate::bindings::imports::patchbay::connector::feed_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_product_feed",
        default_bindings_module: "::patchbay_sdk::__private::bindings::product_feed",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod embedding {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/embedding",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/llm-types@0.1.4": crate::bindings::imports::patchbay::connector::llm_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_embedding",
        default_bindings_module: "::patchbay_sdk::__private::bindings::embedding",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod transcription {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/transcription",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/llm-types@0.1.4": crate::bindings::imports::patchbay::connector::llm_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_transcription",
        default_bindings_module: "::patchbay_sdk::__private::bindings::transcription",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod streaming {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/streaming",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/llm-types@0.1.4": crate::bindings::imports::patchbay::connector::llm_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_streaming",
        default_bindings_module: "::patchbay_sdk::__private::bindings::streaming",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod image_generation {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/image-generation",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/llm-types@0.1.4": crate::bindings::imports::patchbay::connector::llm_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_image_generation",
        default_bindings_module: "::patchbay_sdk::__private::bindings::image_generation",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod actions {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/actions",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_actions",
        default_bindings_module: "::patchbay_sdk::__private::bindings::actions",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod webhook_handshake {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/webhook-handshake",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_webhook_handshake",
        default_bindings_module: "::patchbay_sdk::__private::bindings::webhook_handshake",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod oauth_callback {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/oauth-callback",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_oauth_callback",
        default_bindings_module: "::patchbay_sdk::__private::bindings::oauth_callback",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod rate_signals {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/rate-signals",
        pub_export_macro: true,
        export_macro_name: "__export_rate_signals",
        default_bindings_module: "::patchbay_sdk::__private::bindings::rate_signals",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod manifest_extension {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/manifest-extension",
        pub_export_macro: true,
        export_macro_name: "__export_manifest_extension",
        default_bindings_module: "::patchbay_sdk::__private::bindings::manifest_extension",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}

pub mod blob_storage {
    wit_bindgen::generate!({
        path: ["wit", "src/worlds.wit"],
        world: "patchbay:sdk/blob-storage",
        with: {
            "patchbay:connector/types@0.1.4": crate::bindings::imports::patchbay::connector::types,
            "patchbay:connector/blobs@0.1.4": crate::bindings::imports::patchbay::connector::blobs,
        },
        pub_export_macro: true,
        export_macro_name: "__export_blob_storage",
        default_bindings_module: "::patchbay_sdk::__private::bindings::blob_storage",
        runtime_path: "::patchbay_sdk::__private::wit_bindgen::rt",
    });
}
