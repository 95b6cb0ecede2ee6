"""SHACL constraints proven while converting, record by record; the store checks only the rest.

A store-level validation scans every constrained property of the store again after the load,
which costs as much as the load itself at full scale. But the converter already holds every
value of a record, knows which triples it writes for it, and knows the type of both ends of
every edge (dangling ones are skipped). So, reading the constraints from the shapes graph
(never from a copy of them), this package proves, as the records stream by, each constraint
that a single record or edge decides: sh:datatype, sh:nodeKind, sh:pattern, numeric ranges,
sh:minCount / sh:maxCount of record fields, sh:class (and sh:or of sh:class) of an edge's far
end, sh:closed, the class of subjects targeted by sh:targetSubjectsOf, and the links to the
entity's pages on the Hub (hkgm:link), which the converter builds from the id.

Proving is all it does. A constraint it finds violated, or cannot decide (another target kind,
a parameter it does not model, a count fed by relation files, kept dangling edges, a store
that holds more than this one conversion), stays *open*; :meth:`ShapesGraph.reduced` keeps
exactly the open constraints (with the targets, paths and messages they need), and the store
validator runs that reduced shapes graph. A violation is therefore always reported by the store
validator itself, with the same results `validate --store` gives; a constraint leaves the
report only when every triple it could apply to was checked here.

Soundness rests on one fact, checked for every record: the converter's output holds exactly
the triples accounted for here. Those are the record's own (its rdf:type, one per field value,
one per license link, one per page link, one per edge), which the checks read, and the *extra*
ones the converter derives (:class:`Extra`: standard-term types and predicates, author-position nodes,
the task hierarchy, the concept preamble, the VoID description), which no check reads. The
planner leaves open (to the store) every shape an extra triple could touch: a property shape
whose path is an extra predicate, a shape targeting an extra class or the subjects of an extra
predicate, a closed shape whose focus type gets an extra predicate it does not allow; an extra
rdfs:subClassOf (it would change every class target) opens everything. A node shape that extra
triples reach only through some of its sh:targetSubjectsOf (TypedSubjectShape) is proven here
on the subjects of the others, which are records, and the store checks it on the subjects of
the extra predicates alone, or on all its targets if a record failed it. Any other line the
converter writes (a new kind of triple) marks the whole run unproven, and the full shapes graph
is then run on the store.

Its files, in the order the work flows: ``shapes_graph`` reads the shapes and writes the
reduced graph, ``extra`` lists the triples no record check reads, ``planner`` decides what each
constraint needs of a record, ``checker`` checks the converter's stream against that plan, and
``proof`` says what was proven and what the store validator must still run.
"""

from .checker import CheckingTripleMaker
from .proof import Proof, describe, everything, proven_targets, store_shapes
from .shapes_graph import ShapesGraph

__all__ = ["CheckingTripleMaker", "Proof", "ShapesGraph", "describe", "everything", "proven_targets", "store_shapes"]
