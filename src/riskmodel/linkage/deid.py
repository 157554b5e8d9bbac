"""De-identification: keyed pseudonyms, scrubbing free text, k-anonymous units and posts, warning-case digests, leak scan.

Whatever leaves the supervision office is de-identified (DOMAIN.md, paper §3.1:
案件查处情况可以脱敏后推送至思政部门，作为警示教育的素材).  Four steps:

1. **Pseudonyms.**  A person's id becomes ``EMP-`` + the first 12 hex digits of
   HMAC-SHA256(key, ``"employee:" + id``).  The same person gets the same
   pseudonym in every report made under one key; without the key nobody can
   compute or reverse them.  The key lives **outside the repository**: the
   environment variable ``RISKMODEL_PSEUDONYM_KEY`` (the key itself), or
   ``RISKMODEL_PSEUDONYM_KEY_FILE`` / ``linkage.pseudonym_key_file`` in the
   settings (a file holding it).  Create one with::

       riskmodel deid keygen --out ~/.config/riskmodel/pseudonym.key   # 32 random bytes, hex, chmod 600
       export RISKMODEL_PSEUDONYM_KEY_FILE=~/.config/riskmodel/pseudonym.key

   Losing the key only means new reports get new pseudonyms; leaking it lets
   the holder link pseudonyms to ids, so treat it like a password.
2. **Direct identifiers** (``schema.identifier_columns()``: names, ID numbers,
   phones, addresses, bank accounts; and :data:`COUNTERPARTY_COLUMNS`: station
   ids and names, suppliers' names, credit codes, phones, accounts, addresses)
   are dropped from tables and replaced in free text, all in one place
   (:meth:`Deidentifier.scrub_text`, in the text's language): every known value
   found in a text is replaced (a case's people by ``某<post>``, other names by
   ``某某``, companies by ``某公司``, stations by ``某收购站``, other values by
   ``[已脱敏]``, employee, grower and supplier ids by their pseudonym, document
   ids and fapiao numbers (:func:`document_columns`: an order's id finds its
   requester in the ERP) by a pseudonym of their kind, ``PO-…``, ``CLM-…``,
   ``FP-…``), then
   addresses cut short (``道外区长江路138号5单…``), partly masked numbers
   (``138****5678``) and patterns for unknown phones, ID numbers, accounts and
   street addresses.  Pseudonyms themselves are never scrubbed.
3. **Quasi-identifiers** (unit + post + year) are generalised until at least
   ``k`` people *in the organisation* share them (k-anonymity against the
   population, sometimes called k-map): department → kind of unit (收购站,
   采购部门 …) → post → post sensitivity → company-wide over all years → ``*``.
4. **Leak scan.**  :func:`find_leaks` scans any output for every identifier
   value in the source tables (and the ids pseudonyms replace, documents' too), partly masked
   numbers and addresses cut short; de-identified views refuse to return
   anything it flags.

Examples
--------
>>> p = Pseudonymizer(b"k" * 32)
>>> p("E00001") == p("E00001"), p("E00001").startswith("EMP-")
(True, True)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel import config
from riskmodel.data.dataset import Dataset
from riskmodel.data.schema import TABLES, identifier_columns
from riskmodel.data.store import atomic_write_bytes
from riskmodel.errors import RiskModelError
from riskmodel.linkage.common import DataLike, as_dataset, case_subjects, table
from riskmodel.linkage.topics import TOPIC_LESSONS, TOPIC_ZH, split_tags, topics_for_case

KEY_ENV = "RISKMODEL_PSEUDONYM_KEY"
KEY_FILE_ENV = "RISKMODEL_PSEUDONYM_KEY_FILE"
PREFIX = {"employee": "EMP", "grower": "GRW", "supplier": "SUP", "case": "WC", "alert": "ALT", "record": "REC"}
#: the areas of the data contract whose tables record business transactions: a document's id (an order, a claim, a
#: leaf purchase …) or the fapiao number on it finds the people concerned for anyone with access to the ERP, and a
#: fapiao number is a third party's identifier besides
TRANSACTION_AREAS = ("procurement", "reimbursement", "leaf")
#: a transaction table's rows are documents when they point at one of these (master data such as categories, budget
#: lines or stations do not)
PARTY_TABLES = ("employees", "suppliers", "growers")
#: pseudonym prefixes of document ids by table, and of fapiao numbers (the kind ``invoice_number``: one fapiao gets one
#: pseudonym whether a supplier's invoice or a claim carries it); a table or number column the contract gains later
#: gets ``DOC-`` (every kind without a prefix does)
DOCUMENT_PREFIX = {"requisitions": "REQ", "approvals": "APV", "tenders": "TND", "bids": "BDS", "purchase_orders": "PO",
                   "goods_receipts": "GRN", "invoices": "INV", "payments": "PAY", "travel_records": "TRP", "claims": "CLM",
                   "grower_contracts": "CTR", "leaf_purchases": "LPU", "invoice_number": "FP"}
PREFIX.update(DOCUMENT_PREFIX)
_DEFAULT_PREFIX = "DOC"
#: a document number shorter than this (once normalised), or all digits and shorter than :data:`_MIN_DIGITS_DOCUMENT`,
#: is not looked for in texts: it would match counts, amounts and placeholders ("0", "无") rather than documents
_MIN_DOCUMENT = 5
_MIN_DIGITS_DOCUMENT = 8
#: id columns whose values become pseudonyms in free text, and the pseudonym kind they get (a supplier's id too: the
#: queue names suppliers by pseudonym, and a raw id in a reason would undo that)
ID_COLUMNS = {"employees": ("employee_id", "employee"), "growers": ("grower_id", "grower"), "suppliers": ("supplier_id", "supplier")}
#: what names a station or a supplier besides the schema's identifier columns (which cover people only): a station's
#: id or name in a grower's or a grader's reasons tells where the few people concerned work, and a supplier's name,
#: phone or account names the company (and with it, in a related-party scheme, the relative behind it)
COUNTERPARTY_COLUMNS = {"stations": ("station_id", "name"),
                        "suppliers": ("name", "credit_code", "address", "phone", "bank_account")}
DEPT_TYPE_ZH = {"leadership": "领导班子", "functional": "职能部门", "procurement": "采购部门", "finance": "财务部门",
                "leaf": "烟叶业务部门", "station": "烟叶收购站", "warehouse": "仓储部门", "logistics": "物流部门"}
SENSITIVITY_ZH = {3: "高风险岗位", 2: "中风险岗位", 1: "一般岗位"}
REDACTED = "[已脱敏]"
#: what a known value is replaced by in free text, per language (ids get their pseudonym instead)
LABELS = {"name": ("某某", "[name removed]"), "company": ("某公司", "[company removed]"),
          "station": ("某收购站", "a station"), "other": (REDACTED, "[removed]")}
_LANGS = ("zh", "en")
#: a pseudonym as :class:`Pseudonymizer` writes it; scrubbers and the leak scan never look inside one (its 12 hex
#: digits may all be decimal, which would otherwise read as a bank account)
PSEUDONYM_RE = re.compile(r"(?<![0-9A-Za-z])(?:"
                          + "|".join(sorted(set(PREFIX.values()) | {_DEFAULT_PREFIX}, key=len, reverse=True))
                          + r")-[0-9a-f]{12}(?![0-9A-Za-z])")
_PATTERNS = (  # unknown identifiers in free text (known ones are replaced by value first): (pattern, zh label, en label)
    (re.compile(r"(?:[\u4e00-\u9fff]{2,4}省)?[\u4e00-\u9fff]{2,4}市[\u4e00-\u9fff]{1,4}[区县][\u4e00-\u9fff0-9]{1,20}?\d+[号组]"
                r"(?:\d+号)?(?:\d+单元)?(?:\d+室)?"), "[地址已脱敏]", "[address removed]"),
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])"), "[证件号已脱敏]", "[ID number removed]"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "[电话已脱敏]", "[phone removed]"),
    (re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)"), "[电话已脱敏]", "[phone removed]"),
    (re.compile(r"(?<!\d)\d{12,19}(?!\d)"), "[账号已脱敏]", "[account removed]"),
    (re.compile(r"(?<!\d)\d{20}(?!\d)"), "[发票号已脱敏]", "[fapiao number removed]"),  # an e-fapiao's number
)
#: partly masked identifiers, as relationship explanations write them (``138****5678``, ``6228…3230``): what is left
#: still narrows the person down, and a de-identified output has no use for it
_MASKED = re.compile(r"(?<![0-9A-Za-z])\d{3,6}(?:…|\.\.\.|\*{3,})\d{3,4}[0-9Xx]?(?![0-9A-Za-z])")
#: a text cut short (``道外区长江路138号5单…``): its last characters before the ellipsis are checked against known addresses
#: (at most 40: an unbounded run made the search quadratic on a report's base64 figures)
_TRUNCATED = re.compile(r"[^\s\[\]()（）【】：:，,。；;、—…]{8,40}(?=…|\.\.\.)")
_MIN_TRUNCATED = 8


class PseudonymKeyError(RiskModelError):
    """No usable pseudonym key."""


class LeakError(RiskModelError):
    """A de-identified output still holds an identifier; nothing was written."""

    def __init__(self, message: str, leaks: pd.DataFrame | None = None):
        self.leaks = leaks
        super().__init__(message)


# -- the key -------------------------------------------------------------------------------------------------


def _inside_repository(path: Path) -> bool:
    try:
        path.resolve().relative_to(config.PROJ_ROOT)
    except ValueError:
        return False
    return (config.PROJ_ROOT / ".git").exists() or (config.PROJ_ROOT / "pyproject.toml").is_file()


def create_key(path: str | Path, force: bool = False) -> Path:
    """Write a new random pseudonym key (32 bytes, hex) to ``path``, readable by its owner only.

    Refuses a path inside the repository (so the key is never committed) and an existing file unless ``force``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = create_key(pathlib.Path(tempfile.mkdtemp()) / "pseudonym.key")
    >>> len(p.read_text().strip())
    64
    """
    path = Path(path).expanduser()
    if _inside_repository(path):
        raise PseudonymKeyError(f"{path} is inside the repository {config.PROJ_ROOT}; keep the key outside it "
                                f"(e.g. ~/.config/riskmodel/pseudonym.key) so it is never committed")
    if path.exists() and not force:
        raise PseudonymKeyError(f"{path} exists; a new key changes every pseudonym. Pass --force to replace it")
    atomic_write_bytes(path, (secrets.token_hex(32) + "\n").encode("ascii"))
    os.chmod(path, 0o600)
    return path


def _parse_key(text: str, source: str) -> bytes:
    text = text.strip()
    key = bytes.fromhex(text) if re.fullmatch(r"(?:[0-9a-fA-F]{2}){16,}", text) else text.encode("utf-8")
    if len(key) < 16:
        raise PseudonymKeyError(f"the pseudonym key from {source} is too short ({len(key)} bytes; at least 16); "
                                f"create one with 'riskmodel deid keygen --out PATH'")
    return key


def load_key(key_file: str | Path | None = None, settings: Any = None) -> bytes:
    """The pseudonym key: ``$RISKMODEL_PSEUDONYM_KEY``, else the file named by ``key_file``,
    ``$RISKMODEL_PSEUDONYM_KEY_FILE`` or the settings' ``linkage.pseudonym_key_file``.

    Raises
    ------
    PseudonymKeyError
        When there is none, saying how to create one.
    """
    if os.environ.get(KEY_ENV):
        return _parse_key(os.environ[KEY_ENV], f"${KEY_ENV}")
    if key_file is None:
        key_file = os.environ.get(KEY_FILE_ENV) or None
    if key_file is None and settings is not None and getattr(settings, "linkage", None) is not None:
        key_file = settings.linkage.pseudonym_key_file
    if key_file is None:
        raise PseudonymKeyError(
            f"de-identified output needs a pseudonym key and none is set. Create one outside the repository with "
            f"'riskmodel deid keygen --out ~/.config/riskmodel/pseudonym.key', then set {KEY_FILE_ENV} to that path "
            f"(or linkage.pseudonym_key_file in your settings); keep the same key to keep pseudonyms stable")
    path = Path(key_file).expanduser()
    if not path.is_file():
        raise PseudonymKeyError(f"pseudonym key file {path} does not exist; create it with 'riskmodel deid keygen --out {path}'")
    if _inside_repository(path):
        raise PseudonymKeyError(f"pseudonym key file {path} is inside the repository; move it outside so it is never committed")
    return _parse_key(path.read_text(encoding="utf-8"), str(path))


class Pseudonymizer:
    """Keyed pseudonyms: ``PREFIX-`` + 12 hex digits of HMAC-SHA256(key, ``kind:value``).

    Parameters
    ----------
    key : bytes
        At least 16 bytes (see :func:`load_key`).

    Examples
    --------
    >>> p = Pseudonymizer(b"0" * 32)
    >>> p("E00001"), p("G000001", "grower")[:4]
    ('EMP-cbe43822756c', 'GRW-')
    >>> Pseudonymizer(b"1" * 32)("E00001") != p("E00001")
    True
    """

    def __init__(self, key: bytes):
        if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
            raise PseudonymKeyError("a pseudonym key must be at least 16 bytes; create one with 'riskmodel deid keygen --out PATH'")
        self._key = bytes(key)

    def __call__(self, value: object, kind: str = "employee") -> str:
        digest = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{PREFIX.get(kind, _DEFAULT_PREFIX)}-{digest[:12]}"

    def series(self, values: pd.Series, kind: str = "employee") -> pd.Series:
        """Pseudonyms of a column (missing values stay missing)."""
        uniq = {v: self(v, kind) for v in pd.unique(values.dropna())}
        return values.map(uniq)


# -- documents ----------------------------------------------------------------------------------------------


def document_columns() -> dict[tuple[str, str], str]:
    """Columns of the data contract that hold document ids or numbers: ``(table, column) -> pseudonym kind``.

    Read from :data:`riskmodel.data.schema.TABLES`, so that a table or column the contract gains is covered: the
    one-column key of every table of :data:`TRANSACTION_AREAS` whose rows point at a person or a counterparty
    (:data:`PARTY_TABLES`), kind = the table; and every text column of those tables named ``*_number`` that is no
    key, reference, code or personal identifier (the fapiao numbers), kind = the column, shared across tables.

    Examples
    --------
    >>> cols = document_columns()
    >>> cols[("purchase_orders", "po_id")], cols[("claims", "invoice_number")], cols[("invoices", "invoice_number")]
    ('purchase_orders', 'invoice_number', 'invoice_number')
    >>> ("stations", "station_id") in cols, ("budget_lines", "budget_line_id") in cols
    (False, False)
    """
    out: dict[tuple[str, str], str] = {}
    for t in TABLES:
        if t.area not in TRANSACTION_AREAS:
            continue
        refs = {c.references.split(".")[0] for c in t.columns if c.references}
        if len(t.key_columns) == 1 and refs & set(PARTY_TABLES):
            out[(t.name, t.key_columns[0])] = t.name
        for c in t.columns:
            if (c.dtype == "str" and c.name.endswith("_number") and c.name not in t.key_columns and not c.references
                    and c.allowed is None and not c.identifier):
                out[(t.name, c.name)] = c.name
    return out


def normalise_document_number(value: str) -> str:
    """A document number as RMB-003 compares them: letters and digits only, upper case (``"0440 0123-45"`` → ``"0440012345"``).

    One fapiao written two ways gets one pseudonym.
    """
    return re.sub(r"[^0-9A-Za-z]", "", str(value)).upper()


def _is_document_number(kind: str) -> bool:
    return kind.endswith("_number")


def entity_kind(entity_type: str) -> str:
    """The pseudonym kind of an alert's entity: a person or counterparty, a document (``tender`` → the tenders' kind,
    as its id is pseudonymised in reason texts), or ``record``.

    Examples
    --------
    >>> entity_kind("employee"), entity_kind("purchase_order"), entity_kind("department")
    ('employee', 'purchase_orders', 'record')
    """
    if entity_type in {k for _, k in ID_COLUMNS.values()}:
        return entity_type
    kinds = {k for (t, _), k in document_columns().items() if k == t}
    return f"{entity_type}s" if f"{entity_type}s" in kinds else "record"


# -- finding known values in text ---------------------------------------------------------------------------


class _Matcher:
    """Finds known strings in text.

    Candidate positions come from a character class of first characters; at
    each, the two-character prefix gives the lengths of the known strings that
    start with it, and a set lookup per length decides (so thousands of bank
    accounts starting with "62" cost one lookup per length, not one comparison each).

    A ``bounded`` value (a document id or number) counts only as a whole token: not
    where a letter continues its first letter backwards or its last letter forwards,
    nor a digit its digits (``R0000001`` is not found in ``GR0000001``, nor
    ``12345678`` in ``123456789``); people's names have no such boundaries in Chinese.
    """

    def __init__(self, values: Iterable[str], bounded: Iterable[str] = ()):
        known = values if isinstance(values, (dict, set, frozenset)) else set(values)  # a dict is looked up, not copied
        # a demo company has over a million document ids: the lengths per two-character prefix are found column-wise
        arr = pa.array(list(known), type=pa.string())
        n = pc.utf8_length(arr)
        if pc.any(pc.less(n, 2)).as_py():
            known = {v for v in known if len(v) >= 2}
            arr = arr.filter(pc.greater_equal(n, 2))
            n = pc.utf8_length(arr)
        self._values = known
        self._bounded = bounded if isinstance(bounded, frozenset) else frozenset(bounded)
        pairs = pa.table({"p": pc.utf8_slice_codeunits(arr, 0, 2), "n": n}).group_by(["p", "n"]).aggregate([])
        lens: dict[str, list[int]] = {}
        for p, ln in zip(pairs.column("p").to_pylist(), pairs.column("n").to_pylist()):
            lens.setdefault(p, []).append(ln)
        self._lens = {p: tuple(sorted(ls, reverse=True)) for p, ls in lens.items()}
        firsts = sorted({p[0] for p in lens})
        self._first = re.compile("[" + "".join(re.escape(c) for c in firsts) + "]") if firsts else None

    def find_all(self, text: str) -> list[tuple[int, str]]:
        """Every occurrence (overlapping ones too) as (start, value)."""
        if self._first is None:
            return []
        out, get, known = [], self._lens.get, self._values
        for m in self._first.finditer(text):
            i = m.start()
            for n in get(text[i:i + 2], ()):
                if text[i:i + n] in known and self._whole(text, i, n):
                    out.append((i, text[i:i + n]))
        return out

    def _whole(self, text: str, i: int, n: int) -> bool:
        if text[i:i + n] not in self._bounded:
            return True
        before = i > 0 and _same_class(text[i - 1], text[i])
        after = i + n < len(text) and _same_class(text[i + n - 1], text[i + n])
        return not (before or after)

    def replace(self, text: str, repl: Callable[[str], str]) -> str:
        """Replace occurrences left to right, longest first, without overlaps."""
        if self._first is None:
            return text
        parts, pos, get, known = [], 0, self._lens.get, self._values
        for m in self._first.finditer(text):
            i = m.start()
            if i < pos:
                continue
            for n in get(text[i:i + 2], ()):
                if text[i:i + n] in known and self._whole(text, i, n):
                    parts.append(text[pos:i])
                    parts.append(repl(text[i:i + n]))
                    pos = i + n
                    break
        parts.append(text[pos:])
        return "".join(parts)


def _same_class(a: str, b: str) -> bool:
    """Whether two characters are both ASCII letters or both ASCII digits (one token of an id)."""
    return (a.isascii() and b.isascii()) and ((a.isalpha() and b.isalpha()) or (a.isdigit() and b.isdigit()))


@dataclass
class IdentifierIndex:
    """Every identifier value in a dataset: ``value -> (table, column)``.

    Built from :func:`riskmodel.data.schema.identifier_columns` (names, ID
    numbers, phones, addresses, bank accounts of employees, growers and
    suppliers' legal representatives), :data:`COUNTERPARTY_COLUMNS` (stations'
    ids and names; suppliers' names, credit codes, addresses, phones and
    accounts) plus, with ``include_ids``, the ids that pseudonyms replace
    (:data:`ID_COLUMNS`: ``employee_id``, ``grower_id``, ``supplier_id``) and the
    document ids and fapiao numbers (:func:`document_columns`).
    """

    values: dict[str, tuple[str, str]]
    #: the document columns indexed (:func:`document_columns`), with their pseudonym kind, and their values (found as
    #: whole tokens only; see :class:`_Matcher`)
    documents: dict[tuple[str, str], str] = field(default_factory=dict)
    document_values: frozenset[str] = frozenset()
    name_columns: frozenset[tuple[str, str]] = frozenset({("employees", "name"), ("growers", "name"), ("suppliers", "legal_rep_name")})
    #: unit names: replaced in free text, but not leaks where a de-identified output shows them as its k-anonymous unit
    #: label (a station is a department; :meth:`Deidentifier.generalise` names it only where k people share the post)
    unit_columns: frozenset[tuple[str, str]] = frozenset({("stations", "name")})

    @classmethod
    def from_data(cls, data: Dataset, include_ids: bool = True) -> IdentifierIndex:
        cols = {t: list(c) for t, c in identifier_columns().items()}
        if include_ids:
            for t, (c, _) in ID_COLUMNS.items():
                cols.setdefault(t, []).append(c)
        for t, extra in COUNTERPARTY_COLUMNS.items():
            cols.setdefault(t, []).extend(c for c in extra if c not in cols[t])
        values: dict[str, tuple[str, str]] = {}
        for t, names in cols.items():
            if not data.has(t):
                continue
            df = data.table(t)
            for c in names:
                if c not in df:
                    continue
                for v in pd.unique(df[c].dropna().astype(str).str.strip()):
                    if len(v) >= 2:
                        values.setdefault(v, (t, c))
        documents = document_columns() if include_ids else {}
        docs: dict[str, tuple[str, str]] = {}
        for t, c in reversed(list(documents)):  # up to millions of values (leaf purchases): selected in DuckDB
            if data.has(t) and c in data.sql(f'SELECT * FROM "{t}" LIMIT 0').columns:
                docs.update(dict.fromkeys(_document_values(data, t, c), (t, c)))  # the first column named wins
        bounded = frozenset(docs).difference(values)  # a value that also names a person is the person's
        docs.update(values)
        return cls(docs, documents=documents, document_values=bounded)

    def matcher(self) -> _Matcher:
        if not hasattr(self, "_matcher"):
            bounded = self.document_values or frozenset(v for v, tc in self.values.items() if tc in self.documents)
            self._matcher = _Matcher(self.values, bounded=bounded)
        return self._matcher

    def kind(self, value: str) -> str:
        """How a known value is replaced in free text: ``id:<pseudonym kind>``, ``name``, ``company``, ``station`` or ``other``."""
        t, c = self.values[value]
        if (t, c) in self.documents:
            return "id:" + self.documents[(t, c)]
        if (t, c) in self.name_columns:
            return "name"
        if ID_COLUMNS.get(t, (None,))[0] == c:
            return "id:" + ID_COLUMNS[t][1]
        if t == "stations":
            return "station"
        return "company" if (t, c) == ("suppliers", "name") else "other"

    def truncated(self, text: str) -> list[tuple[int, int]]:
        """Spans of ``text`` that are a known address cut short, with the ellipsis (``道外区长江路138号5单…``).

        The longest tail of at least 8 characters before the ellipsis that occurs in a known address counts.
        """
        if "…" not in text and "..." not in text:
            return []
        if not hasattr(self, "_addresses"):
            self._addresses = "\n".join(v for v, (_, c) in self.values.items() if c == "address")
        out = []
        for m in _TRUNCATED.finditer(text):
            run = m.group()
            if run[-_MIN_TRUNCATED:] not in self._addresses:  # every longer tail holds this one: one look for most texts
                continue
            for i in range(len(run) - _MIN_TRUNCATED + 1):
                if run[i:] in self._addresses:  # the span takes the ellipsis with it
                    out.append((m.start() + i, m.end() + (1 if text.startswith("…", m.end()) else 3)))
                    break
        return out


def _document_values(data: Dataset, table_name: str, column: str) -> list[str]:
    """The distinct values of a document column worth looking for in texts (see :data:`_MIN_DOCUMENT`)."""
    q = f"""
        WITH v AS (SELECT DISTINCT trim(CAST("{column}" AS VARCHAR)) AS v FROM "{table_name}" WHERE "{column}" IS NOT NULL),
             n AS (SELECT v, regexp_replace(v, '[^0-9A-Za-z]', '', 'g') AS norm FROM v)
        SELECT v FROM n
        WHERE length(norm) >= {_MIN_DOCUMENT} AND NOT regexp_full_match(norm, '0+')
          AND (NOT regexp_full_match(norm, '[0-9]+') OR length(norm) >= {_MIN_DIGITS_DOCUMENT})"""
    return data.sql(q).v.tolist()


def _outside_pseudonyms(text: str, fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to the parts of ``text`` between pseudonyms, leaving every pseudonym as it is."""
    parts, pos = [], 0
    for m in PSEUDONYM_RE.finditer(text):
        parts += [fn(text[pos:m.start()]), m.group()]
        pos = m.end()
    return "".join(parts + [fn(text[pos:])]) if parts else fn(text)


def _pseudonym_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in PSEUDONYM_RE.finditer(text)]


# -- the leak scan -------------------------------------------------------------------------------------------


def _cell_text(v: Any) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, (list, tuple, dict, np.ndarray)):
        from riskmodel.ledger import jsonable

        return json.dumps(jsonable(v), ensure_ascii=False)
    return str(v)


def _frame_texts(df: pd.DataFrame) -> list[tuple[str, str]]:
    out = [(f"column name {c!r}", str(c)) for c in df.columns]
    for c in df.columns:
        col = df[c]
        if col.dtype == object or str(col.dtype).startswith(("str", "string", "category")):
            texts = col.map(_cell_text)
        else:
            texts = col.astype(str)
        uniq = texts.dropna().drop_duplicates()
        out.extend((f"{c}[{i}]", t) for i, t in uniq.items())
    return out


def _output_texts(name: str, obj: Any) -> list[tuple[str, str]]:
    if isinstance(obj, pd.DataFrame):
        return [(f"{name}: {w}", t) for w, t in _frame_texts(obj)]
    if isinstance(obj, pd.Series):
        return _output_texts(name, obj.to_frame())
    if isinstance(obj, (bytes, bytearray)):
        return [(name, bytes(obj).decode("utf-8", errors="replace"))]
    if isinstance(obj, str):
        return [(name, obj)]
    if isinstance(obj, Path):
        if obj.is_dir():
            return [t for p in sorted(obj.rglob("*")) if p.is_file() for t in _output_texts(str(p), p)]
        if obj.suffix == ".parquet":
            return _output_texts(str(obj), pd.read_parquet(obj))
        return [(str(obj), obj.read_bytes().decode("utf-8", errors="replace"))]
    if isinstance(obj, (Mapping, list, tuple)):
        return [(name, _cell_text(obj) or "")]
    return [(name, str(obj))]


def find_leaks(outputs: Any, data: DataLike, include_ids: bool = True, index: IdentifierIndex | None = None) -> pd.DataFrame:
    """Scan outputs for any identifier value of the source tables.

    Parameters
    ----------
    outputs : DataFrame, str, bytes, Path (file or folder), or a mapping ``{name: any of these}``
        What is about to leave the supervision office.  Files are read (Parquet as tables, anything else as UTF-8 text).
    data : Dataset, mapping of tables, or path
        The source tables: every value of every ``identifier=True`` column
        (names, ID numbers, phones, addresses, bank accounts), of
        :data:`COUNTERPARTY_COLUMNS` (station ids and names, suppliers' names,
        credit codes, addresses, phones, accounts; a station's name is a unit
        name, left to the k-anonymity of unit labels), and with ``include_ids``
        every ``employee_id``, ``grower_id`` and ``supplier_id`` and every
        document id and fapiao number (:func:`document_columns`).  Partly masked
        numbers (``138****5678``, ``6228…3230``) and addresses cut short before
        an ellipsis count too; nothing inside a pseudonym (``EMP-…``) does.
    include_ids : bool, default=True
        Also count raw ids, of people and of documents, as leaks (a de-identified output carries pseudonyms instead).
    index : IdentifierIndex, optional
        A prebuilt index (to scan many outputs against one dataset).

    Returns
    -------
    DataFrame
        One row per leak: ``output``, ``where``, ``table``, ``column``, ``value_masked`` (the value with its middle
        starred, so the report itself does not repeat it).  Empty when clean.

    Examples
    --------
    >>> data = {"employees": pd.DataFrame({"employee_id": ["E1"], "name": ["张三丰"], "phone": ["13800001111"]})}
    >>> find_leaks({"digest": "经查，某某在采购中……"}, data).empty
    True
    >>> find_leaks({"digest": "经查，张三丰在采购中……"}, data)[["table", "column", "value_masked"]].values.tolist()
    [['employees', 'name', '张*丰']]
    """
    ds = as_dataset(data)
    index = index or IdentifierIndex.from_data(ds, include_ids=include_ids)
    if not isinstance(outputs, Mapping) or isinstance(outputs, pd.DataFrame):
        outputs = {"output": outputs}
    matcher = index.matcher()
    rows = []
    for name, obj in outputs.items():
        for where, text in _output_texts(str(name), obj):
            pseudonyms = _pseudonym_spans(text)
            inside = lambda i, n: any(a <= i and i + n <= b for a, b in pseudonyms)  # noqa: E731
            for i, v in matcher.find_all(text):
                t, c = index.values[v]
                if not inside(i, len(v)) and (t, c) not in index.unit_columns:
                    rows.append((str(name), where, t, c, _mask(v)))
            for m in _MASKED.finditer(text):
                if not inside(m.start(), len(m.group())):
                    rows.append((str(name), where, "*", "partly masked identifier", _mask(m.group())))
            for a, b in index.truncated(text):
                rows.append((str(name), where, "*", "address cut short", _mask(text[a:b])))
    return pd.DataFrame(rows, columns=["output", "where", "table", "column", "value_masked"]).drop_duplicates(ignore_index=True)


def _mask(v: str) -> str:
    if len(v) <= 2:
        return v[0] + "*"
    keep = max(1, len(v) // 4)
    return v[:keep] + "*" * (len(v) - 2 * keep) + v[-keep:]


def assert_no_leaks(outputs: Any, data: DataLike, what: str = "output", index: IdentifierIndex | None = None) -> None:
    """Raise :class:`LeakError` (naming where, never the value) when :func:`find_leaks` finds anything."""
    leaks = find_leaks(outputs, data, index=index)
    if len(leaks):
        first = leaks.iloc[0]
        raise LeakError(f"{what} still holds {len(leaks)} identifier(s), e.g. {first.table}.{first.column} at {first['where']} "
                        f"({first.value_masked}); nothing was written. This is a bug in the de-identification of this view: "
                        f"report it to the supervision office and use an identified role's output only inside it", leaks)


# -- the de-identifier ---------------------------------------------------------------------------------------


class Deidentifier:
    """Pseudonyms, text scrubbing and k-anonymous generalisation against one dataset.

    Parameters
    ----------
    data : Dataset, mapping of tables, or path
    pseudonymizer : Pseudonymizer
    k : int, default=3
        Every unit/post/year a de-identified output shows stands for at least ``k`` people.
    """

    def __init__(self, data: DataLike, pseudonymizer: Pseudonymizer, k: int = 3):
        if k < 2:
            raise RiskModelError(f"k-anonymity needs k >= 2, not {k}; set linkage.k_anonymity")
        self.data = as_dataset(data)
        self.pseudonymizer = pseudonymizer
        self.k = int(k)
        self._index: IdentifierIndex | None = None
        self._holders: dict[int, pd.DataFrame] = {}

    @property
    def index(self) -> IdentifierIndex:
        if self._index is None:
            self._index = IdentifierIndex.from_data(self.data)
        return self._index

    def pseudonyms(self, values: pd.Series, kind: str = "employee") -> pd.Series:
        return self.pseudonymizer.series(values, kind)

    # free text ------------------------------------------------------------------------------------------
    def _replacement(self, value: str, lang: str = "zh") -> str:
        kind = self.index.kind(value)
        if kind.startswith("id:"):
            return self._pseudonym(value, kind[3:])
        return LABELS[kind][_LANGS.index(lang)]

    def _pseudonym(self, value: str, kind: str) -> str:
        """A value's pseudonym of ``kind``; a fapiao number as RMB-003 compares it (one fapiao written two ways, one
        pseudonym)."""
        return self.pseudonymizer(normalise_document_number(value) if _is_document_number(kind) else value, kind)

    def scrub_text(self, text: str | None, people: Mapping[str, str] | None = None, lang: str = "zh") -> str | None:
        """Replace identifiers in one text; ``people`` maps names to labels first (e.g. ``{"张三": "某采购员"}``).

        Known values are replaced first: ids by their pseudonym, people's names by ``某某``, company names by
        ``某公司``, stations by ``某收购站``, anything else by ``[已脱敏]`` (in English text, with ``lang='en'``:
        ``[name removed]``, ``[company removed]``, ``a station``, ``[removed]``).  Then addresses cut short before an
        ellipsis, partly masked numbers (``138****5678``) and patterns for unknown phones, ID numbers, accounts and
        addresses.  Pseudonyms are left as they are, whatever their digits look like.

        Examples
        --------
        >>> data = {"employees": pd.DataFrame({"employee_id": ["E1"], "name": ["张三丰"], "phone": ["13800001111"]}),
        ...         "stations": pd.DataFrame({"station_id": ["ST001"], "name": ["安堡烟叶收购站"]})}
        >>> d = Deidentifier(data, Pseudonymizer(b"0" * 32))
        >>> d.scrub_text("经查，张三丰（电话13800001111，另有13912345678）……")
        '经查，某某（电话[已脱敏]，另有[电话已脱敏]）……'
        >>> d.scrub_text("ST001于2024-10-07当晚收购2批；员工 张三丰(E1) —[电话 139****5678]—")
        '某收购站于2024-10-07当晚收购2批；员工 某某(EMP-beed7211de43) —[电话 [已脱敏]]—'
        >>> d.scrub_text("on the night of 2024-10-07 ST001 bought 2 lots; employee 张三丰 (E1)", lang="en")
        'on the night of 2024-10-07 a station bought 2 lots; employee [name removed] (EMP-beed7211de43)'
        """
        if text is None or (isinstance(text, float) and text != text):
            return text
        if lang not in _LANGS:
            raise RiskModelError(f"scrubbing text in {lang!r}: the labels exist in {', '.join(_LANGS)} only")
        out = str(text)
        people = people if isinstance(people, Mapping) else {}
        for name in sorted(people, key=len, reverse=True):
            if name:
                out = out.replace(name, people[name])
        li, other = _LANGS.index(lang), LABELS["other"][_LANGS.index(lang)]

        def cut_short(part: str) -> str:  # before names are replaced: a street may share its name with someone
            for a, b in reversed(self.index.truncated(part)):
                part = part[:a] + other + part[b:]
            return part

        out = _outside_pseudonyms(out, cut_short)
        out = _outside_pseudonyms(out, lambda part: self.index.matcher().replace(part, lambda v: self._replacement(v, lang)))

        def patterns(part: str) -> str:
            part = _MASKED.sub(other, part)
            for rx, *labels in _PATTERNS:
                part = rx.sub(labels[li], part)
            return part

        return _outside_pseudonyms(out, patterns)

    def scrub(self, texts: pd.Series, people: pd.Series | None = None, lang: str = "zh") -> pd.Series:
        """:meth:`scrub_text` over a column; ``people`` is an aligned column of name → label mappings."""
        if people is None:
            uniq = {t: self.scrub_text(t, lang=lang) for t in pd.unique(texts.dropna())}
            return texts.map(uniq)
        return pd.Series([self.scrub_text(t, p, lang) for t, p in zip(texts, people)], index=texts.index, dtype=object)

    # quasi-identifiers -----------------------------------------------------------------------------------
    def holders(self, year: int) -> pd.DataFrame:
        """Everyone who held a post at any time in ``year``: employee, department, position, unit kind, sensitivity."""
        if year not in self._holders:
            ph = table(self.data, "post_history", "k-anonymity (who holds which post)")
            lo, hi = pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year, month=12, day=31)
            h = ph[(ph.start_date <= hi) & (ph.end_date.isna() | (ph.end_date >= lo))][["employee_id", "department_id", "position_id"]]
            self._holders[year] = self._attributes(h.assign(year=year))
        return self._holders[year]

    def _attributes(self, frame: pd.DataFrame) -> pd.DataFrame:
        dep = table(self.data, "departments", "k-anonymity").set_index("department_id")
        pos = table(self.data, "positions", "k-anonymity").set_index("position_id")
        out = frame.copy()
        out["dept_type"] = out.department_id.map(dep.dept_type)
        out["dept_name"] = out.department_id.map(dep["name"])
        out["sensitivity"] = out.position_id.map(pos.sensitivity)
        out["post_title"] = out.position_id.map(pos.title_zh)
        return out

    def generalise(self, frame: pd.DataFrame, dept: str = "department_id", pos: str = "position_id", year: str = "year",
                   group: str | None = None, min_level: int = 0) -> pd.DataFrame:
        """Add k-anonymous ``unit_zh``, ``post_zh``, ``year_label`` (plus ``gen_level`` 0–4 and ``class_size``).

        Level 0 names the department and post; 1 the kind of unit and the post;
        2 the kind of unit and the post's sensitivity; 3 the sensitivity across
        the company and all years; 4 suppresses all three.  Each row gets the
        lowest level at which at least ``k`` people held such a post in such a
        unit that year.  With ``group`` (e.g. a pseudonym column), all rows of a
        group share their coarsest level, so that records of one person cannot
        be intersected.  ``min_level`` sets a floor (person-level outputs use 2:
        a pseudonym is never shown with its exact department and post).
        """
        f = frame.reset_index(drop=True)
        yrs = pd.to_numeric(f[year], errors="coerce")
        years = sorted({int(y) for y in yrs.dropna()})
        pop = pd.concat([self.holders(y) for y in years], ignore_index=True) if years else self.holders(0).iloc[:0]
        q = self._attributes(pd.DataFrame({"department_id": f[dept].to_numpy(), "position_id": f[pos].to_numpy(), "year": yrs.to_numpy()}))
        # rows without a post (a case about suppliers only) are generalised on unit and year alone
        no_post = q.position_id.isna().to_numpy()
        keys = ((["department_id", "position_id", "year"], ["department_id", "year"]),
                (["dept_type", "position_id", "year"], ["dept_type", "year"]),
                (["dept_type", "sensitivity", "year"], ["dept_type", "year"]),
                (["sensitivity"], []))
        sizes = []
        for with_post, without in keys:
            n = np.zeros(len(q))
            for kcols, rows in ((with_post, ~no_post), (without, no_post)):
                if not rows.any():
                    continue
                if kcols:
                    counts = pop.groupby(kcols, dropna=False).employee_id.nunique().rename("n").reset_index()
                    n[rows] = q.loc[rows, kcols].merge(counts, on=kcols, how="left").n.fillna(0).to_numpy()
                else:
                    n[rows] = pop.employee_id.nunique()
            sizes.append(n)
        sizes_arr = np.column_stack(sizes)
        ok = sizes_arr >= self.k
        ok[:, :min(max(int(min_level), 0), 4)] = False
        level = np.where(ok.any(axis=1), ok.argmax(axis=1), 4)
        if group is not None:
            level = pd.Series(level).groupby(f[group].to_numpy()).transform("max").to_numpy()
        span = (str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}") if years else "*"
        ystr = yrs.map(lambda y: "*" if pd.isna(y) else str(int(y)))
        kind = q.dept_type.map(DEPT_TYPE_ZH).fillna("其他部门")
        sens = q.sensitivity.map(SENSITIVITY_ZH).fillna("相关岗位")
        out = f.copy()
        out["unit_zh"] = np.select([level == 0, level <= 2, level == 3], [q.dept_name.fillna("*"), kind, "全公司"], "*")
        out["post_zh"] = np.select([no_post & (level < 4), level <= 1, level <= 3], ["—", q.post_title.fillna("*"), sens], "*")
        out["year_label"] = np.select([level <= 2, level == 3], [ystr, span], "*")
        out["gen_level"] = level
        out["class_size"] = np.where(level < 4, sizes_arr[np.arange(len(f)), np.minimum(level, 3)], 0).astype(int)
        return out

    def resolve(self, refs: Iterable[str]) -> pd.DataFrame:
        """What pseudonyms of people, counterparties and documents stand for: the supervision office's way back.

        A pseudonym's prefix names its kind (``EMP-`` employees, ``PO-`` purchase orders, ``FP-`` fapiao numbers …);
        every value of that kind's columns is pseudonymised under this key and matched.  Case, alert and record
        pseudonyms (``WC-``, ``ALT-``, ``REC-``) are made from the archive and the run, not looked up here.

        Returns
        -------
        DataFrame
            ``ref``, ``table``, ``column``, ``value`` per ref, in the order given; ``table`` and ``value`` are missing
            where the ref is no pseudonym of this dataset under this key.

        Examples
        --------
        >>> data = {"purchase_orders": pd.DataFrame({"po_id": ["PO0000123"], "supplier_id": ["S1"]})}
        >>> d = Deidentifier(data, Pseudonymizer(b"0" * 32))
        >>> ref = d.scrub_text("订单PO0000123")[2:]
        >>> d.resolve([ref, "PO-000000000000"]).value.tolist()
        ['PO0000123', None]
        """
        sources: dict[str, list[tuple[str, str]]] = {}
        for t, (c, kind) in ID_COLUMNS.items():
            sources.setdefault(kind, []).append((t, c))
        for tc, kind in document_columns().items():
            sources.setdefault(kind, []).append(tc)
        refs = [str(r).strip() for r in refs]
        found: dict[str, tuple[str, str, str]] = {}
        for kind, cols in sources.items():
            prefix = PREFIX.get(kind, _DEFAULT_PREFIX) + "-"
            wanted = {r for r in refs if r.startswith(prefix)}
            if not wanted:
                continue
            for t, c in cols:  # only the kinds asked for: a leaf purchase's pseudonyms are a million HMACs
                if not self.data.has(t) or c not in (df := self.data.table(t)):
                    continue
                for v in pd.unique(df[c].dropna().astype(str).str.strip()):
                    ref = self._pseudonym(v, kind)
                    if ref in wanted:
                        found.setdefault(ref, (t, c, v))
        rows = [(r, *found.get(r, (None, None, None))) for r in refs]
        return pd.DataFrame(rows, columns=["ref", "table", "column", "value"], dtype=object)

    def check(self, outputs: Any, what: str = "output") -> None:
        """Refuse (raise :class:`LeakError`) if ``outputs`` hold any identifier of the dataset."""
        assert_no_leaks(outputs, self.data, what, index=self.index)


# -- warning-case digests (警示案例) ---------------------------------------------------------------------------

DIGEST_COLUMNS = ["digest_id", "source", "year_label", "case_type", "unit_zh", "post_zh", "title_zh", "summary_zh",
                  "disposition", "measures_zh", "topics", "topics_zh", "lessons_zh", "material_ids", "gen_level", "class_size"]


def case_text_maps(data: DataLike, cases: pd.DataFrame, deid: Deidentifier) -> tuple[pd.DataFrame, pd.Series]:
    """Cases generalised (unit, post, year of the subject's post) and, per case, the replacements its texts need.

    The subject's name becomes ``某<post>`` (``某工作人员`` when the post is generalised away), other case people
    ``某相关人员``; department and station names become the generalised unit, and the post title ``相关岗位`` where the
    post is generalised, since a name in the text would undo the generalisation.
    """
    ds = as_dataset(data)
    cases = cases.reset_index(drop=True)
    emp = table(ds, "employees", "de-identifying case texts").set_index("employee_id")
    people = case_subjects(ds, cases)
    subj = people[people.role == "subject"].drop_duplicates("case_id").set_index("case_id")
    f = cases.assign(year=cases.opened_date.dt.year,
                     sub_dept=cases.case_id.map(subj.post_department_id).fillna(cases.department_id),
                     sub_pos=cases.case_id.map(subj.post_position_id))
    g = deid.generalise(f, dept="sub_dept", pos="sub_pos", year="year")
    label = np.where(g.gen_level <= 1, "某" + g.post_zh.astype(str), "某工作人员")
    label_of = dict(zip(g.case_id, label))
    per_case: dict[str, dict[str, str]] = {c: {} for c in g.case_id}
    names = people.assign(person_name=people.employee_id.map(emp["name"]))
    for r in names.itertuples():  # case people: a handful per case
        if isinstance(r.person_name, str) and r.case_id in per_case:
            per_case[r.case_id][r.person_name] = label_of[r.case_id] if r.role == "subject" else "某相关人员"
    dep_names = list(table(ds, "departments", "de-identifying case texts")["name"])
    if ds.has("stations"):
        dep_names += list(ds.table("stations")["name"])
    pos = table(ds, "positions", "de-identifying case texts").set_index("position_id")
    maps = []
    for cid, lvl, p_id, unit in zip(g.case_id, g.gen_level, g.sub_pos, g.unit_zh):  # one per case
        m = {n: unit for n in dep_names} if lvl >= 1 else {}
        if lvl >= 2 and isinstance(p_id, str) and p_id in pos.index:
            m[pos.title_zh[p_id]] = "相关岗位"
        maps.append({**m, **per_case.get(cid, {})})
    return g, pd.Series(maps, index=g.index, dtype=object)


def warning_digests(data: DataLike, deid: Deidentifier, statuses: Iterable[str] = ("closed",),
                    run_dir: str | Path | None = None, materials_per_digest: int = 3) -> pd.DataFrame:
    """De-identified warning-case digests (警示案例) for the education side.

    One digest per case with a status in ``statuses`` (default: closed, i.e.
    confirmed and disposed), and, with ``run_dir``, one per alert a reviewer
    confirmed.  Each says what happened (names replaced by ``某<post>``), the
    kind of unit, the post and the year (generalised until ``k`` people share
    them), the disposition, the rectification measures, the topics, one lesson
    per topic and warning materials to go with it.

    Examples
    --------
    >>> import tempfile
    >>> from riskmodel.data.synthetic import generate_company
    >>> path = tempfile.mkdtemp() + "/co"
    >>> _ = generate_company("small", seed=11, out=path, progress=False)
    >>> d = warning_digests(path, Deidentifier(path, Pseudonymizer(b"0" * 32)))
    >>> find_leaks(d, path).empty and bool((d.class_size[d.gen_level < 4] >= 3).all())
    True
    """
    ds = as_dataset(data)
    cases = table(ds, "cases", "warning-case digests")
    g, people_maps = case_text_maps(ds, cases[cases.status.isin(list(statuses))], deid)
    rect = table(ds, "rectifications", "warning-case digests") if ds.has("rectifications") else pd.DataFrame(columns=["case_id", "measure_text"])
    measures = rect.groupby("case_id").measure_text.agg(lambda s: "；".join(dict.fromkeys(s.dropna())))
    out = pd.DataFrame({
        "digest_id": [deid.pseudonymizer(c, "case") for c in g.case_id],
        "source": "case",
        "year_label": g.year_label, "case_type": g.case_type, "unit_zh": g.unit_zh, "post_zh": g.post_zh,
        "title_zh": deid.scrub(g.title, people_maps), "summary_zh": deid.scrub(g.summary, people_maps),
        "disposition": deid.scrub(g.disposition),
        "measures_zh": deid.scrub(g.case_id.map(measures).fillna("")),
        "topics": [topics_for_case(t, f"{a}{b}") for t, a, b in zip(g.case_type, g.title, g.summary)],
        "gen_level": g.gen_level, "class_size": g.class_size,
    })
    if run_dir is not None:
        out = pd.concat([out, _alert_digests(ds, deid, run_dir)], ignore_index=True)
    out["topics_zh"] = out.topics.map(lambda ts: "、".join(TOPIC_ZH[t] for t in ts))
    out["lessons_zh"] = out.topics.map(lambda ts: "".join(TOPIC_LESSONS[t] for t in ts))
    out["material_ids"] = _warning_materials(ds, out.topics, materials_per_digest)
    out["topics"] = out.topics.map(";".join)
    out = out[DIGEST_COLUMNS]
    deid.check(out, "warning-case digests")
    return out


def _alert_digests(ds: Dataset, deid: Deidentifier, run_dir: str | Path) -> pd.DataFrame:
    from riskmodel.linkage.common import latest_decisions, read_run, reason_indicators
    from riskmodel.linkage.topics import topics_for_indicators

    run = read_run(run_dir)
    dec = latest_decisions(run["decisions"])
    conf = dec[dec.decision == "confirmed"]
    a = run["alerts"][run["alerts"].alert_id.isin(conf.alert_id)].reset_index(drop=True)
    if a.empty:
        return pd.DataFrame(columns=["digest_id", "source", "year_label", "case_type", "unit_zh", "post_zh", "title_zh",
                                     "summary_zh", "disposition", "measures_zh", "topics", "gen_level", "class_size"])
    a["year"] = pd.to_datetime(a.period).dt.year
    g = deid.generalise(a, year="year")
    who = np.where(g.gen_level <= 1, "某" + g.post_zh.astype(str), "某工作人员")
    texts = [("；".join(r.get("text_zh", "") for r in (rs if rs is not None else []) if r.get("indicator_id")) or "模型预警经复核确认")
             for rs in g.reasons]
    return pd.DataFrame({
        "digest_id": [deid.pseudonymizer(x, "alert") for x in g.alert_id], "source": "confirmed_alert",
        "year_label": g.year_label, "case_type": "预警核实", "unit_zh": g.unit_zh, "post_zh": g.post_zh,
        "title_zh": [f"{w}经预警复核确认的问题" for w in who],
        "summary_zh": deid.scrub(pd.Series([f"经复核，{w}存在以下问题：{t}。" for w, t in zip(who, texts)])),
        "disposition": "复核确认", "measures_zh": "",
        "topics": [topics_for_indicators(reason_indicators(r)) or ["integrity_general"] for r in g.reasons],
        "gen_level": g.gen_level, "class_size": g.class_size,
    })


def _warning_materials(ds: Dataset, topics: pd.Series, n: int) -> list[str]:
    if not ds.has("materials"):
        return [""] * len(topics)
    m = ds.table("materials")
    m = m.assign(tags=m.topic_tags.map(split_tags), is_case=(m.kind == "warning_case").astype(int))
    out = []
    for ts in topics:  # one pick per digest (tens), over a small catalogue
        hit = m.assign(match=m.tags.map(lambda t: len(set(t) & set(ts))))
        hit = hit[hit.match > 0].sort_values(["is_case", "match", "published_date"], ascending=False)
        out.append(";".join(hit.material_id.head(n)))
    return out
