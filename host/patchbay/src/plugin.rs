//! A loaded plugin: a checked, compiled component with its manifest.
//!
//! Loading checks, in order: the file is a component; every import is
//! granted; it exports `connector` at a supported contract version; every
//! exported contract interface has the contract's shape; its manifest is
//! valid and its family's port is exported.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use patchbay_contract::bindings::exports::patchbay::connector as exports;
use patchbay_contract::types::PluginManifest;
use patchbay_contract::{CONTRACT_PACKAGE, HOST_IMPORTS, Interface, SUPPORTED_CONTRACT_VERSIONS, bridge};
use patchbay_outbound::{BudgetRefusal, CostBudget, HostPattern, allowlist};
use patchbay_sandbox::{
    CacheOutcome, CallError, CallOptions, CallState, CallTarget, CompileCache, GRANTED_WASI, Sandbox, trapped,
};
use serde_json::Value;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre, Val};

use crate::error::LoadError;
use crate::manifest::validate_manifest;

macro_rules! guests {
    ($($variant:ident => $name:literal, $module:ident, $port:literal;)*) => {
        /// Pre-resolved export indices of each contract interface the plugin exports.
        pub(crate) struct Guests {
            $(pub $module: Option<exports::$module::GuestIndices>,)*
        }

        impl Guests {
            fn resolve(pre: &InstancePre<CallState>, exported: &BTreeSet<Interface>) -> Result<Self, String> {
                Ok(Self {
                    $($module: if exported.contains(&Interface::$variant) {
                        Some(exports::$module::GuestIndices::new(pre).map_err(|e| {
                            format!("its `{}` export does not match the contract: {e}", Interface::$variant)
                        })?)
                    } else {
                        None
                    },)*
                })
            }
        }
    };
}

patchbay_contract::for_each_interface!(guests);

/// One exported function, as the JSON bridge sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSchema {
    /// The WIT name, e.g. `get-orders`.
    pub name: String,
    /// JSON Schema of each parameter, by name.
    pub params: serde_json::Map<String, Value>,
    /// JSON Schema of the result (`null` when there is none).
    pub result: Value,
}

/// A plugin, ready to be instantiated for calls.
pub struct Plugin {
    key: Arc<str>,
    path: PathBuf,
    sha256: String,
    size: u64,
    contract_version: String,
    manifest: PluginManifest,
    manifest_json: Value,
    forwarding_headers: Vec<String>,
    cost_budget: Option<CostBudget>,
    port: Interface,
    exports: BTreeSet<Interface>,
    imports: Vec<String>,
    cache_outcome: Option<CacheOutcome>,
    compile_time: std::time::Duration,
    pub(crate) component: Component,
    pub(crate) pre: InstancePre<CallState>,
    pub(crate) guests: Guests,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("key", &self.key)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn not_a_component(path: &Path, bytes: &[u8], error: &wasmtime::Error) -> LoadError {
    let reason = if !bytes.starts_with(b"\0asm") {
        "not a WebAssembly file".to_string()
    } else if bytes.get(4..8) == Some(&[1, 0, 0, 0]) {
        "a core WebAssembly module, not a component: build it for wasm32-wasip2 (or componentize it)".to_string()
    } else {
        format!("not a valid WebAssembly component: {}", error.root_cause())
    };
    LoadError::NotAComponent {
        path: path.to_path_buf(),
        reason,
    }
}

/// Checks one import name against what the host grants.
fn check_import(path: &Path, name: &str) -> Result<(), LoadError> {
    let (base, version) = patchbay_contract::split_version(name);
    let refuse = |hint: &str| LoadError::UnsupportedImport {
        path: path.to_path_buf(),
        import: name.to_string(),
        hint: hint.to_string(),
    };
    if let Some(interface) = base
        .strip_prefix(CONTRACT_PACKAGE)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        if !HOST_IMPORTS.contains(&interface) {
            return Err(refuse(" (it is not a host interface of the contract)"));
        }
        return match version {
            Some(v) if SUPPORTED_CONTRACT_VERSIONS.contains(&v) => Ok(()),
            _ => Err(LoadError::ContractVersion {
                path: path.to_path_buf(),
                found: version.unwrap_or("(unversioned)").to_string(),
                supported: SUPPORTED_CONTRACT_VERSIONS.join(", "),
            }),
        };
    }
    if GRANTED_WASI.contains(&base) {
        return Ok(());
    }
    Err(refuse(""))
}

impl Plugin {
    /// Loads and checks a component file.
    pub(crate) async fn load(
        sandbox: &Sandbox,
        cache: Option<&CompileCache>,
        path: &Path,
        bytes: &[u8],
        sha256: String,
    ) -> Result<Self, LoadError> {
        let started = std::time::Instant::now();
        let engine = sandbox.engine();
        let (component, cache_outcome) = sandbox
            .compile(bytes, cache, &sha256)
            .map_err(|e| not_a_component(path, bytes, &e))?;
        let compile_time = started.elapsed();
        let ty = component.component_type();
        let mut imports = Vec::new();
        for (name, _) in ty.imports(engine) {
            check_import(path, name)?;
            imports.push(name.to_string());
        }
        let not_a_plugin = |reason: String| LoadError::NotAPlugin {
            path: path.to_path_buf(),
            reason,
        };
        let mut contract_version = None;
        let mut exported = BTreeSet::new();
        for (name, item) in ty.exports(engine) {
            let (base, version) = patchbay_contract::split_version(name);
            let Some(interface) = base.strip_prefix(CONTRACT_PACKAGE).and_then(|r| r.strip_prefix('/')) else {
                continue; // toolchain extras such as `init`
            };
            let Some(interface) = Interface::from_name(interface) else {
                return Err(not_a_plugin(format!(
                    "exports `{name}`, which is not an interface of the contract"
                )));
            };
            if !matches!(item.ty, ComponentItem::ComponentInstance(_)) {
                return Err(not_a_plugin(format!(
                    "exports `{name}` as something other than an interface"
                )));
            }
            let version = version.unwrap_or("(unversioned)").to_string();
            if interface == Interface::Connector {
                contract_version = Some(version.clone());
            }
            exported.insert(interface);
            if let Some(v) = &contract_version
                && *v != version
            {
                return Err(not_a_plugin(format!(
                    "exports contract versions {v} and {version} at once"
                )));
            }
        }
        let contract_version = contract_version.ok_or_else(|| {
            not_a_plugin(format!(
                "exports no `{CONTRACT_PACKAGE}/connector` interface: not a Patchbay plugin"
            ))
        })?;
        if !SUPPORTED_CONTRACT_VERSIONS.contains(&contract_version.as_str()) {
            return Err(LoadError::ContractVersion {
                path: path.to_path_buf(),
                found: contract_version,
                supported: SUPPORTED_CONTRACT_VERSIONS.join(", "),
            });
        }
        let pre = sandbox
            .link(&component)
            .map_err(|e| not_a_plugin(format!("cannot be linked: {}", e.root_cause())))?;
        let guests = Guests::resolve(&pre, &exported).map_err(not_a_plugin)?;
        let manifest_index = manifest_index(&component, &contract_version)
            .ok_or_else(|| not_a_plugin("its `connector` export has no `manifest` function".to_string()))?;
        let file_key: Arc<str> = Arc::from(path.display().to_string());
        let declared = read_manifest(sandbox, &pre, &file_key, &guests, manifest_index)
            .await
            .map_err(|e| LoadError::Manifest {
                path: path.to_path_buf(),
                reason: format!("calling manifest() failed: {e}"),
            })?;
        let Declared {
            manifest,
            manifest_json,
            forwarding_headers,
            cost_budget,
        } = declared;
        let forwarding_headers = validate_manifest(&manifest, &exported, &contract_version)
            .and_then(|()| crate::manifest::same_manifest(&manifest, &manifest_json))
            .and_then(|()| crate::manifest::forwarding_headers(forwarding_headers))
            .and_then(|headers| {
                cost_budget.as_ref().map_or(Ok(()), CostBudget::validate)?;
                Ok(headers)
            })
            .map_err(|reason| LoadError::Manifest {
                path: path.to_path_buf(),
                reason,
            })?;
        Ok(Self {
            key: Arc::from(format!(
                "{}/{}",
                patchbay_contract::family_name(manifest.family),
                manifest.name
            )),
            path: path.to_path_buf(),
            sha256,
            size: bytes.len() as u64,
            contract_version,
            port: Interface::port_of(manifest.family),
            manifest,
            manifest_json,
            forwarding_headers,
            cost_budget,
            exports: exported,
            imports,
            cache_outcome,
            compile_time,
            component,
            pre,
            guests,
        })
    }

    /// The export index of `interface.function`.
    pub(crate) fn func_index(
        &self,
        interface: Interface,
        function: &str,
    ) -> Result<wasmtime::component::ComponentExportIndex, CallError> {
        let name = format!("{CONTRACT_PACKAGE}/{}@{}", interface.name(), self.contract_version);
        let instance = self
            .component
            .get_export_index(None, &name)
            .ok_or_else(|| CallError::Unsupported(format!("{} does not export `{}`", self.key, interface)))?;
        self.component
            .get_export_index(Some(&instance), function)
            .ok_or_else(|| CallError::Unsupported(format!("`{interface}` has no function `{function}`")))
    }

    /// The functions of an exported interface, with the JSON Schema of
    /// their parameters and result (the JSON bridge's shapes).
    pub fn functions(&self, interface: Interface) -> Vec<FunctionSchema> {
        let engine = self.component.engine();
        let name = format!("{CONTRACT_PACKAGE}/{}@{}", interface.name(), self.contract_version);
        let ty = self.component.component_type();
        let Some(ComponentItem::ComponentInstance(instance)) = ty.get_export(engine, &name).map(|e| e.ty) else {
            return Vec::new();
        };
        instance
            .exports(engine)
            .filter_map(|(name, item)| match item.ty {
                ComponentItem::ComponentFunc(f) => Some(FunctionSchema {
                    name: name.to_string(),
                    params: f.params().map(|(n, t)| (n.to_string(), bridge::schema(&t))).collect(),
                    result: f.results().next().map(|t| bridge::schema(&t)).unwrap_or(Value::Null),
                }),
                _ => None,
            })
            .collect()
    }

    /// Every exported function with its parameter and result types (for
    /// the fuzz targets, which feed the JSON bridge through them).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn function_types(&self) -> Vec<crate::fuzzing::FunctionTypes> {
        let engine = self.component.engine();
        let ty = self.component.component_type();
        let mut all = Vec::new();
        for &interface in Interface::ALL {
            let name = format!("{CONTRACT_PACKAGE}/{}@{}", interface.name(), self.contract_version);
            let Some(ComponentItem::ComponentInstance(instance)) = ty.get_export(engine, &name).map(|e| e.ty) else {
                continue;
            };
            for (function, item) in instance.exports(engine) {
                if let ComponentItem::ComponentFunc(f) = item.ty {
                    all.push(crate::fuzzing::FunctionTypes {
                        name: format!("{interface}.{function}"),
                        params: f.params().map(|(n, t)| (n.to_string(), t)).collect(),
                        result: f.results().next(),
                    });
                }
            }
        }
        all
    }

    /// What the compile cache did when this plugin was loaded (`None`
    /// without a cache).
    pub fn cache_outcome(&self) -> Option<CacheOutcome> {
        self.cache_outcome
    }

    /// How long compiling (or loading from the cache) took.
    pub fn compile_time(&self) -> std::time::Duration {
        self.compile_time
    }

    /// `family/name`, e.g. `shop/woocommerce`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What a call of this plugin runs.
    pub(crate) fn target(&self) -> CallTarget<'_> {
        CallTarget {
            pre: &self.pre,
            provider: &self.key,
        }
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SHA-256 of the file, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Size of the file in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The contract version it targets.
    pub fn contract_version(&self) -> &str {
        &self.contract_version
    }

    /// Its manifest.
    pub fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }

    /// Its manifest as JSON (the bridge's shape).
    pub fn manifest_json(&self) -> &Value {
        &self.manifest_json
    }

    /// The forwarding headers it declared (`manifest-extension`), lowercase:
    /// the only ones of the pipeline's refused headers it may set.
    pub fn forwarding_headers(&self) -> &[String] {
        &self.forwarding_headers
    }

    /// Where its provider reports a cost budget in its answers
    /// (`rate-signals`), which the pipeline paces its connections by.
    pub fn cost_budget(&self) -> Option<&CostBudget> {
        self.cost_budget.as_ref()
    }

    /// Its family's port.
    pub fn port(&self) -> Interface {
        self.port
    }

    /// Exported capabilities: everything beyond `connector` and the port.
    pub fn capabilities(&self) -> Vec<Interface> {
        self.exports
            .iter()
            .copied()
            .filter(|i| *i != Interface::Connector && *i != self.port)
            .collect()
    }

    /// Whether it exports `interface`.
    pub fn exports(&self, interface: Interface) -> bool {
        self.exports.contains(&interface)
    }

    /// Every import, as named by the component.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// Resolves the manifest's allowed-host patterns for given settings.
    pub(crate) fn declared_hosts(&self, settings: &patchbay_secrets::Settings) -> Result<Vec<HostPattern>, String> {
        let mut patterns = Vec::new();
        for pattern in &self.manifest.allowed_hosts {
            if let Some(resolved) = allowlist::resolve_pattern(pattern, settings).map_err(|e| e.to_string())? {
                patterns.push(HostPattern::parse(&resolved).map_err(|e| e.to_string())?);
            }
        }
        Ok(patterns)
    }
}

/// The contract's `rate-signals.cost-budget` as the pipeline's.
fn cost_budget(declared: patchbay_contract::types::CostBudget) -> CostBudget {
    CostBudget {
        available: declared.available,
        restore_rate: declared.restore_rate,
        cost: declared.cost,
        refusal: declared.refusal.map(|r| BudgetRefusal {
            items: r.items,
            code: r.code,
            value: r.value,
        }),
    }
}

/// The export index of `connector.manifest`.
fn manifest_index(component: &Component, contract_version: &str) -> Option<wasmtime::component::ComponentExportIndex> {
    let name = format!("{CONTRACT_PACKAGE}/{}@{contract_version}", Interface::Connector.name());
    let instance = component.get_export_index(None, &name)?;
    component.get_export_index(Some(&instance), "manifest")
}

/// What a plugin declares about itself: its manifest, typed and as JSON,
/// and what `manifest-extension` adds.
struct Declared {
    manifest: PluginManifest,
    manifest_json: Value,
    forwarding_headers: Vec<String>,
    cost_budget: Option<CostBudget>,
}

/// Calls `manifest()` twice in one instance: typed, and through the JSON
/// bridge for display; then `manifest-extension`, when it is exported. The
/// call has no grant: no HTTP, no storage.
async fn read_manifest(
    sandbox: &Sandbox,
    pre: &InstancePre<CallState>,
    provider: &Arc<str>,
    guests: &Guests,
    index: wasmtime::component::ComponentExportIndex,
) -> Result<Declared, CallError> {
    let target = CallTarget { pre, provider };
    let connector = guests.connector.as_ref().expect("connector is required to load");
    let extension = guests.manifest_extension.as_ref();
    let signals = guests.rate_signals.as_ref();
    sandbox
        .run(target, None, CallOptions::default(), |store, instance, _| {
            Box::pin(async move {
                let guest = trapped(connector.load(&mut *store, instance))?;
                let manifest = trapped(guest.call_manifest(&mut *store).await)?;
                let func = instance
                    .get_func(&mut *store, index)
                    .ok_or_else(|| CallError::Unsupported("manifest() is missing".into()))?;
                let result_ty = func
                    .ty(&*store)
                    .results()
                    .next()
                    .ok_or_else(|| CallError::Fault("manifest() returns nothing".into()))?;
                let mut results = vec![Val::Bool(false)];
                trapped(func.call_async(&mut *store, &[], &mut results).await)?;
                let forwarding_headers = match extension {
                    Some(extension) => {
                        let guest = trapped(extension.load(&mut *store, instance))?;
                        trapped(guest.call_forwarding_headers(&mut *store).await)?
                    }
                    None => Vec::new(),
                };
                let cost_budget = match signals {
                    Some(signals) => {
                        let guest = trapped(signals.load(&mut *store, instance))?;
                        Some(cost_budget(trapped(guest.call_budget(&mut *store).await)?))
                    }
                    None => None,
                };
                Ok(Declared {
                    manifest,
                    manifest_json: bridge::from_val(&result_ty, results.swap_remove(0)),
                    forwarding_headers,
                    cost_budget,
                })
            })
        })
        .await
}
