//! Host bindings generated from the contract's `everything` world, which
//! imports everything the host provides and exports every port and
//! capability; a given plugin exports a subset, found per interface. The
//! contract version is the package's own (`wit/`), not written here.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "patchbay:connector/everything",
    imports: { default: async | trappable },
    exports: { default: async },
});
