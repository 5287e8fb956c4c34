//! A family's port as the contract defines it, read from the contract this
//! binary carries.

use wit_parser::{Resolve, Type, TypeDefKind, TypeId};

use crate::contract;

/// The port interface of a family and its operations.
pub(crate) struct Port {
    /// `shop`, `courier`, ..., `actions` for `other`.
    pub interface: String,
    /// The world a plugin of the family targets, e.g. `shop-provider`.
    pub world: String,
    /// The contract's documentation of the interface (for the SDK's generated code).
    #[cfg_attr(not(test), allow(dead_code))]
    pub docs: Option<String>,
    pub functions: Vec<Function>,
    resolve: Resolve,
}

pub(crate) struct Function {
    /// `get-orders`.
    pub name: String,
    /// The contract's documentation of the function.
    #[cfg_attr(not(test), allow(dead_code))]
    pub docs: Option<String>,
    pub params: Vec<(String, Type)>,
    pub result: Option<Type>,
}

/// What a function returns, as the generators need it.
pub(crate) enum Returns<'a> {
    /// `result<T, connector-error>`; `None` for `result<_, connector-error>`.
    Fallible(Option<&'a Type>),
    /// A plain value (e.g. `list<feed-format>`): the stub returns it empty.
    Value(&'a Type),
    Nothing,
}

const FAMILIES: [(&str, &str, &str); 8] = [
    ("shop", "shop", "shop-provider"),
    ("courier", "courier", "courier-provider"),
    ("payment", "payment", "payment-provider"),
    ("messaging", "messaging", "messaging-provider"),
    ("storage", "storage", "storage-provider"),
    ("llm", "llm", "llm-provider"),
    ("feed", "feed", "feed-provider"),
    ("other", "actions", "action-provider"),
];

impl Port {
    /// The port of a family.
    pub fn load(family: &str) -> Result<Self, String> {
        let Some((_, interface, world)) = FAMILIES.iter().find(|(f, ..)| *f == family) else {
            let known: Vec<&str> = FAMILIES.iter().map(|(f, ..)| *f).collect();
            return Err(format!("unknown family {family:?}; one of: {}", known.join(", ")));
        };
        Self::interface(interface, world)
    }

    /// Any interface of the contract, e.g. a capability such as `webhooks`.
    pub fn interface(interface: &str, world: &str) -> Result<Self, String> {
        let (resolve, package) = contract::resolve()?;
        let id = resolve.packages[package]
            .interfaces
            .get(interface)
            .copied()
            .ok_or_else(|| format!("the contract has no `{interface}` interface"))?;
        let functions = resolve.interfaces[id]
            .functions
            .values()
            .map(|f| Function {
                name: f.name.clone(),
                docs: f.docs.contents.clone(),
                params: f.params.iter().map(|p| (p.name.clone(), p.ty)).collect(),
                result: f.result,
            })
            .collect();
        let docs = resolve.interfaces[id].docs.contents.clone();
        Ok(Self {
            interface: interface.to_string(),
            world: world.to_string(),
            docs,
            functions,
            resolve,
        })
    }

    /// The definition behind a type id.
    pub fn kind(&self, id: TypeId) -> &TypeDefKind {
        &self.resolve.types[id].kind
    }

    /// A named type's WIT name (`order-query`), if it has one.
    pub fn name(&self, id: TypeId) -> Option<&str> {
        self.resolve.types[id].name.as_deref()
    }

    /// The resource a type names (through `use` aliases), and whether by
    /// a borrowed handle: `borrow<blob>` → `(blob, true)`.
    pub fn resource(&self, ty: &Type) -> Option<(&str, bool)> {
        let Type::Id(id) = ty else {
            return None;
        };
        match self.kind(*id) {
            TypeDefKind::Resource => self.name(*id).map(|n| (n, false)),
            TypeDefKind::Type(inner) => self.resource(inner),
            TypeDefKind::Handle(wit_parser::Handle::Borrow(inner)) => {
                self.resource(&Type::Id(*inner)).map(|(n, _)| (n, true))
            }
            TypeDefKind::Handle(wit_parser::Handle::Own(inner)) => self.resource(&Type::Id(*inner)),
            _ => None,
        }
    }

    /// Whether a type is a string (through aliases such as `json`).
    pub fn is_string(&self, ty: &Type) -> bool {
        match ty {
            Type::String => true,
            Type::Id(id) => matches!(self.kind(*id), TypeDefKind::Type(inner) if self.is_string(inner)),
            _ => false,
        }
    }

    /// An operation that takes only strings (or nothing), with JSON input for
    /// it: what the scaffold's test calls to see `unsupported`.
    pub fn simple_operation(&self) -> Option<(String, String)> {
        self.functions
            .iter()
            .filter(|f| matches!(self.returns(f), Returns::Fallible(_)))
            .find(|f| f.params.iter().all(|(_, ty)| self.is_string(ty)))
            .map(|f| {
                let input: serde_json::Map<String, serde_json::Value> = f
                    .params
                    .iter()
                    .map(|(name, _)| (name.clone(), serde_json::Value::from("x")))
                    .collect();
                (
                    format!("{}.{}", self.interface, f.name),
                    serde_json::Value::Object(input).to_string(),
                )
            })
    }

    pub fn returns<'a>(&'a self, function: &'a Function) -> Returns<'a> {
        match &function.result {
            None => Returns::Nothing,
            Some(Type::Id(id)) if self.name(*id).is_none() => match self.kind(*id) {
                TypeDefKind::Result(r) => Returns::Fallible(r.ok.as_ref()),
                _ => Returns::Value(function.result.as_ref().expect("matched Some")),
            },
            Some(ty) => Returns::Value(ty),
        }
    }
}

/// `get-orders` → `get_orders`.
pub(crate) fn snake(name: &str) -> String {
    name.replace('-', "_")
}

/// `get-orders` → `getOrders`.
pub(crate) fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `order-query` → `OrderQuery`.
pub(crate) fn pascal(name: &str) -> String {
    let camel = camel(name);
    let mut chars = camel.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}
