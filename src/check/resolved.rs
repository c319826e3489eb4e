//! What name resolution hands to the later passes: definitions with their levels, types and
//! bodies, params, inputs, groups and the best-response block, all indexed by id.

use super::ir::{self, DefId, DefLevel, Ty};

pub struct Resolved {
    /// The definition of each merged slot (`None` for params, inputs, groups, best response).
    pub slot_def: Vec<Option<DefId>>,
    pub def_slot: Vec<usize>,
    pub def_level: Vec<DefLevel>,
    pub def_ty: Vec<Ty>,
    /// `None` where the definition could not be checked (its errors are reported).
    pub bodies: Vec<Option<ir::Body>>,
    pub params: Vec<ir::Param>,
    pub inputs: Vec<ir::Input>,
    pub groups: Vec<Option<ir::GroupDef>>,
    /// The merged slot of each group.
    pub group_slot: Vec<usize>,
    pub best: Option<ir::Best>,
    pub events: Vec<ir::Event>,
    pub rejects: Vec<ir::Reject>,
}
