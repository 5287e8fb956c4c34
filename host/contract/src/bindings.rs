//! Host bindings generated from the contract, private to the crate.
//!
//! One world imports everything the host provides and exports every port
//! and capability; a given plugin exports a subset, found per interface.

wasmtime::component::bindgen!({
    path: "../../wit",
    inline: "
        package patchbay:host;
        world plugin {
            include patchbay:connector/sandbox@0.1.0;
            import patchbay:connector/stream-sink@0.1.0;
            export patchbay:connector/connector@0.1.0;
            export patchbay:connector/shop@0.1.0;
            export patchbay:connector/courier@0.1.0;
            export patchbay:connector/payment@0.1.0;
            export patchbay:connector/messaging@0.1.0;
            export patchbay:connector/storage@0.1.0;
            export patchbay:connector/llm@0.1.0;
            export patchbay:connector/feed@0.1.0;
            export patchbay:connector/webhooks@0.1.0;
            export patchbay:connector/oauth@0.1.0;
            export patchbay:connector/bulk-update@0.1.0;
            export patchbay:connector/invoice-attachment@0.1.0;
            export patchbay:connector/product-feed@0.1.0;
            export patchbay:connector/embedding@0.1.0;
            export patchbay:connector/transcription@0.1.0;
            export patchbay:connector/streaming@0.1.0;
            export patchbay:connector/image-generation@0.1.0;
            export patchbay:connector/actions@0.1.0;
        }
    ",
    world: "patchbay:host/plugin",
    imports: { default: async | trappable },
    exports: { default: async },
});
