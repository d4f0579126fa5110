//! The SCIM resource types and schemas we serve (`schemas.json`, `resource_types.json` beside this
//! file; Users with the enterprise extension, and Groups): read once
//! from the same JSON that `/Schemas` publishes, so what we announce and what we enforce cannot
//! drift apart. Attribute lookups are case-insensitive (RFC 7643 §2.1).

use serde::Deserialize;
use serde_json::Value;
use std::sync::OnceLock;

/// Core User schema URN.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core Group schema URN.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise User extension URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const SCHEMAS: &str = include_str!("schemas.json");
const RESOURCE_TYPES: &str = include_str!("resource_types.json");

/// Who may write an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    /// Only the service provider.
    ReadOnly,
    /// Anyone.
    ReadWrite,
    /// Set once.
    Immutable,
    /// Written, never returned.
    WriteOnly,
}

/// When an attribute is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    /// Always, whatever `attributes` says.
    Always,
    /// Unless excluded.
    Default,
    /// Only when asked for.
    Request,
    /// Never.
    Never,
}

/// One attribute definition (RFC 7643 §7).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attr {
    /// Its name, in the case we store it.
    pub name: String,
    /// string, boolean, complex, integer, decimal, dateTime, reference, binary.
    #[serde(rename = "type")]
    pub kind: String,
    /// A list of values?
    pub multi_valued: bool,
    /// Must be present.
    #[serde(default)]
    pub required: bool,
    /// Compare strings with case?
    #[serde(default)]
    pub case_exact: bool,
    /// Who may write it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// none, server or global.
    #[serde(default)]
    pub uniqueness: Option<String>,
    /// Sub-attributes of a complex attribute.
    #[serde(default)]
    pub sub_attributes: Vec<Attr>,
}

impl Attr {
    /// The sub-attribute `name`, case-insensitively.
    pub fn sub(&self, name: &str) -> Option<&Attr> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// A complex attribute?
    pub fn is_complex(&self) -> bool {
        self.kind == "complex"
    }
}

/// One schema.
#[derive(Debug, Deserialize)]
pub struct Schema {
    /// Its URN.
    pub id: String,
    /// Its attributes.
    pub attributes: Vec<Attr>,
}

impl Schema {
    /// The attribute `name`, case-insensitively.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// One resource type: its endpoint, core schema and extensions.
pub struct Kind {
    /// `User`, `Group`.
    pub name: String,
    /// `/Users`, `/Groups`.
    pub endpoint: String,
    /// The core schema.
    pub core: Schema,
    /// Schema extensions, keyed in resources by their URN.
    pub extensions: Vec<Schema>,
    /// `externalId`: a common attribute (RFC 7643 §3.1), in no schema but stored like one.
    pub external_id: Attr,
}

impl Kind {
    /// The extension whose URN is `urn`, case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&Schema> {
        self.extensions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// A top-level attribute of the core schema (or `externalId`).
    pub fn core_attr(&self, name: &str) -> Option<&Attr> {
        if name.eq_ignore_ascii_case("externalId") {
            return Some(&self.external_id);
        }
        self.core.attr(name)
    }
}

/// Everything served: the resource types, their schemas, and the JSON to publish.
pub struct Catalogue {
    /// Users, then Groups.
    pub kinds: Vec<Kind>,
    /// `/Schemas` as published.
    pub schemas_json: Vec<Value>,
    /// `/ResourceTypes` as published.
    pub resource_types_json: Vec<Value>,
}

#[derive(Deserialize)]
struct ResourceTypeDoc {
    name: String,
    endpoint: String,
    schema: String,
    #[serde(default, rename = "schemaExtensions")]
    extensions: Vec<ExtensionRef>,
}

#[derive(Deserialize)]
struct ExtensionRef {
    schema: String,
}

impl Catalogue {
    /// The catalogue, read once.
    pub fn get() -> &'static Catalogue {
        static C: OnceLock<Catalogue> = OnceLock::new();
        C.get_or_init(|| {
            let schemas_json: Vec<Value> =
                serde_json::from_str(SCHEMAS).expect("schemas.json is valid JSON");
            let resource_types_json: Vec<Value> =
                serde_json::from_str(RESOURCE_TYPES).expect("resource_types.json is valid JSON");
            let schema = |id: &str| -> Schema {
                let v = schemas_json
                    .iter()
                    .find(|v| v.get("id").and_then(Value::as_str) == Some(id))
                    .unwrap_or_else(|| panic!("schemas.json holds {id}"));
                Schema::deserialize(v).expect("schemas.json holds SCIM schemas")
            };
            let kinds = resource_types_json
                .iter()
                .map(|v| {
                    let rt = ResourceTypeDoc::deserialize(v)
                        .expect("resource_types.json holds SCIM resource types");
                    Kind {
                        name: rt.name,
                        endpoint: rt.endpoint,
                        core: schema(&rt.schema),
                        extensions: rt.extensions.iter().map(|e| schema(&e.schema)).collect(),
                        external_id: Attr {
                            name: "externalId".into(),
                            kind: "string".into(),
                            multi_valued: false,
                            required: false,
                            case_exact: true,
                            mutability: Mutability::ReadWrite,
                            returned: Returned::Default,
                            uniqueness: None,
                            sub_attributes: vec![],
                        },
                    }
                })
                .collect();
            Catalogue {
                kinds,
                schemas_json,
                resource_types_json,
            }
        })
    }

    /// The resource type `name` (`User`, `Group`).
    pub fn kind(&self, name: &str) -> &Kind {
        self.kinds
            .iter()
            .find(|k| k.name == name)
            .unwrap_or_else(|| panic!("resource_types.json serves {name}"))
    }

    /// Users.
    pub fn user(&self) -> &Kind {
        self.kind("User")
    }

    /// Groups.
    pub fn group(&self) -> &Kind {
        self.kind("Group")
    }

    /// Every schema URN we serve.
    pub fn urns(&self) -> impl Iterator<Item = &str> {
        self.kinds.iter().flat_map(|k| {
            std::iter::once(k.core.id.as_str()).chain(k.extensions.iter().map(|s| s.id.as_str()))
        })
    }

    /// Is `urn` the core schema of a resource type (its attributes live at the top level)?
    pub fn is_core(&self, urn: &str) -> bool {
        self.kinds
            .iter()
            .any(|k| k.core.id.eq_ignore_ascii_case(urn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_schemas_parse_and_name_their_attributes() {
        let c = Catalogue::get();
        let u = c.user();
        assert_eq!(u.core.id, USER);
        assert_eq!(u.endpoint, "/Users");
        assert!(u.core_attr("USERNAME").is_some_and(|a| a.required));
        assert!(u.core_attr("emails").is_some_and(|a| a.multi_valued));
        assert!(u.extension(ENTERPRISE).is_some());
        assert!(u
            .extension(ENTERPRISE)
            .and_then(|s| s.attr("manager"))
            .and_then(|m| m.sub("displayName"))
            .is_some_and(|d| d.mutability == Mutability::ReadOnly));
        let g = c.group();
        assert_eq!(g.core.id, GROUP);
        assert!(g.core_attr("displayName").is_some_and(|a| a.required));
        assert!(g.core_attr("members").is_some_and(|a| a.multi_valued));
        assert!(g.extensions.is_empty());
        assert!(c.is_core(GROUP) && !c.is_core(ENTERPRISE));
        assert_eq!(c.resource_types_json.len(), 2);
        // No password attribute: we never store one.
        assert!(u.core_attr("password").is_none());
    }
}
