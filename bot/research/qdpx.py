"""A REFI-QDA Project 1.0 (``.qdpx``): what NVivo, ATLAS.ti, MAXQDA and QualCoder
exchange.

The file is a ZIP holding ``project.qde`` (XML in the namespace
``urn:QDA-XML:project:1.0``) and ``sources/``, one plain-text file per source
(UTF-8, named by the source's GUID, referred to as ``internal://GUID.txt``),
which is how those programs write text sources themselves. Each source is
coded, as a whole, with the codes it is given (one selection from its first
character to its last, counted in Unicode characters); cases refer to their
sources; notes hang on a case by a link. Any further files (the participants
table) go at the ZIP's root, where the programs leave them alone.

The XML is written with lxml (a quarter quicker than the standard library's
``xml.etree`` at 10,000 sources, the same interface); the tests check
the result against the published schema and read it back with a REFI-QDA
reader. Every entry of the ZIP carries one fixed time, so the same project gives
the same bytes.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree as ET

from bot.research.ids import uuid5

NAMESPACE = "urn:QDA-XML:project:1.0"
# Characters XML 1.0 cannot hold at all (the source files keep them as written).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Value = str | int


@dataclass(frozen=True)
class Variable:
    """A variable of cases and sources: ``kind`` is ``Text``, ``Integer`` or ``DateTime``."""

    guid: str
    name: str
    kind: str = "Text"


@dataclass(frozen=True)
class Code:
    guid: str
    name: str
    description: str = ""
    children: tuple[Code, ...] = ()


@dataclass(frozen=True)
class Source:
    """A text source, coded as a whole with ``codes`` (their GUIDs)."""

    guid: str
    name: str
    text: str
    created: str
    codes: tuple[str, ...] = ()
    values: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    guid: str
    name: str
    values: dict[str, Value] = field(default_factory=dict)
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """A note on a case (``about``), tied to it by the link ``link_guid``."""

    guid: str
    name: str
    text: str
    created: str
    about: str
    link_guid: str
    link_name: str
    values: dict[str, Value] = field(default_factory=dict)


@dataclass
class Project:
    name: str
    origin: str
    created: str
    description: str = ""
    variables: list[Variable] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    extra_files: dict[str, bytes] = field(default_factory=dict)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _sub(parent: ET._Element, tag: str, text: str | None = None, **attributes: str) -> ET._Element:
    # Only names and texts come from people; the other attributes are ours.
    if "name" in attributes:
        attributes["name"] = _clean(attributes["name"])
    element = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attributes)
    if text is not None:
        element.text = _clean(text)
    return element


def _values(parent: ET._Element, variables: dict[str, Variable], values: dict[str, Value]) -> None:
    for name, value in values.items():
        variable = variables[name]
        holder = _sub(parent, "VariableValue")
        _sub(holder, "VariableRef", targetGUID=variable.guid)
        _sub(holder, f"{variable.kind}Value", str(value))


def _code(parent: ET._Element, code: Code) -> None:
    element = _sub(parent, "Code", guid=code.guid, name=code.name, isCodable="true")
    if code.description:
        _sub(element, "Description", code.description)
    for child in code.children:
        _code(element, child)


def project_xml(project: Project) -> bytes:
    """``project.qde``: the project as REFI-QDA XML (elements in the schema's order)."""
    root = ET.Element(
        f"{{{NAMESPACE}}}Project",
        {
            "name": _clean(project.name),
            "origin": project.origin,
            "creationDateTime": project.created,
        },
    )
    variables = {v.name: v for v in project.variables}
    if project.codes:
        codes = _sub(_sub(root, "CodeBook"), "Codes")
        for code in project.codes:
            _code(codes, code)
    if project.variables:
        holder = _sub(root, "Variables")
        for variable in project.variables:
            _sub(
                holder,
                "Variable",
                guid=variable.guid,
                name=variable.name,
                typeOfVariable=variable.kind,
            )
    if project.cases:
        holder = _sub(root, "Cases")
        for case in project.cases:
            element = _sub(holder, "Case", guid=case.guid, name=case.name)
            _values(element, variables, case.values)
            for target in case.sources:
                _sub(element, "SourceRef", targetGUID=target)
    if project.sources:
        holder = _sub(root, "Sources")
        # Sources alike in their codes and values differ only in a few attributes: the
        # first of each likeness is built, the others copied from it (in lxml's C) and
        # given their own. Three times quicker at 10,000 sources.
        alike: dict[tuple, ET._Element] = {}
        for source in project.sources:
            likeness = (source.codes, tuple(source.values.items()))
            model = alike.get(likeness)
            if model is None:
                model = alike[likeness] = _source(variables, source)
            element = copy.deepcopy(model)
            element.attrib.update(
                {
                    "guid": source.guid,
                    "name": _clean(source.name),
                    "plainTextPath": f"internal://{source.guid}.txt",
                    "creationDateTime": source.created,
                }
            )
            if source.codes:
                selection = element[0]
                selection.attrib.update(
                    {
                        "guid": _derived(source.guid, "selection"),
                        "name": _clean(source.name),
                        "endPosition": str(len(source.text)),
                        "creationDateTime": source.created,
                    }
                )
                for coding, code_guid in zip(selection, source.codes, strict=True):
                    coding.set("guid", _derived(source.guid, code_guid))
            holder.append(element)
    if project.notes:
        holder = _sub(root, "Notes")
        for note in project.notes:
            element = _sub(
                holder, "Note", guid=note.guid, name=note.name, creationDateTime=note.created
            )
            _sub(element, "PlainTextContent", note.text)
            _values(element, variables, note.values)
        links = _sub(root, "Links")
        for note in project.notes:
            _sub(
                links,
                "Link",
                guid=note.link_guid,
                name=note.link_name,
                direction="OneWay",
                originGUID=note.guid,
                targetGUID=note.about,
            )
    if project.description:
        _sub(root, "Description", project.description)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _source(variables: dict[str, Variable], source: Source) -> ET._Element:
    """A text source, its codings and its values."""
    element = ET.Element(
        f"{{{NAMESPACE}}}TextSource",
        guid=source.guid,
        name=_clean(source.name),
        plainTextPath=f"internal://{source.guid}.txt",
        creationDateTime=source.created,
    )
    if source.codes:
        # The whole text, one selection: coding a source as a whole this way is what
        # every one of the programs reads.
        selection = _sub(
            element,
            "PlainTextSelection",
            guid=_derived(source.guid, "selection"),
            name=source.name,
            startPosition="0",
            endPosition=str(len(source.text)),
            creationDateTime=source.created,
        )
        for code_guid in source.codes:
            coding = _sub(selection, "Coding", guid=_derived(source.guid, code_guid))
            _sub(coding, "CodeRef", targetGUID=code_guid)
    _values(element, variables, source.values)
    return element


def _derived(guid: str, part: str) -> str:
    """A GUID derived from another one and a part's name: as stable as the first."""
    return uuid5(guid, part)


def qdpx(project: Project) -> bytes:
    """The ``.qdpx`` file: ``project.qde``, ``sources/`` and any extra files, zipped."""
    moment = datetime.fromisoformat(project.created)
    stamp = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, content: bytes, method: int = zipfile.ZIP_DEFLATED) -> None:
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = method
            archive.writestr(entry, content)

        put("project.qde", project_xml(project))
        for source in project.sources:
            # A few hundred bytes each: stored as they are, which is quicker to write
            # and to read than compressing each on its own.
            put(f"sources/{source.guid}.txt", source.text.encode("utf-8"), zipfile.ZIP_STORED)
        for name, content in project.extra_files.items():
            put(name, content)
    return out.getvalue()


def names_made_unique(names: Iterable[str]) -> list[str]:
    """The names, a number added to each repeat ("North · answer · P-1 (2)"): the
    programs list sources by name, and some refuse two of one name."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique
