"""The data contract: every table riskmodel reads, its columns, keys and rules.

This module is declarative.  The synthetic company writes exactly these
tables; :mod:`riskmodel.data.contracts` turns them into pandera schemas and
cross-table checks; the data dictionary in the docs is printed from here.

Column types
------------
``str``, ``int``, ``float``, ``bool``, ``date`` (a calendar day, stored as a
timestamp at midnight) and ``datetime``.  Multi-valued text fields
(``topic_tags``, ``target_posts``) are ``;``-separated strings so that the same
contract holds for CSV, Parquet and DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Codes shared by several tables -------------------------------------------------
DEPT_TYPES = ("leadership", "functional", "procurement", "finance", "leaf", "station", "warehouse", "logistics")
POST_CODES = (
    "leader", "manager", "procurement_officer", "station_manager", "grader", "weigher",
    "warehouse_keeper", "cashier", "accountant", "clerk", "inspector", "driver",
    "hr_officer", "education_officer", "technician",
)
CLAIM_CATEGORIES = ("travel", "lodging", "meals", "hospitality", "fuel", "toll", "office")
TENDER_METHODS = ("open", "invited", "single_source")
APPROVAL_DECISIONS = ("approved", "rejected")
CASE_STATUSES = ("open", "closed")
CASE_SOURCES = ("alert", "report", "audit", "inspection")
INTERVIEW_KINDS = ("heart_to_heart", "reminder", "admonition", "inquiry")
RECTIFICATION_STATUSES = ("open", "in_progress", "done", "overdue")
MATERIAL_KINDS = ("video", "article", "course", "warning_case", "test")
LEAF_GRADES = (
    "B1F", "B2F", "B3F", "B4F", "C1F", "C2F", "C3F", "C4F", "X1F", "X2F", "X3F", "X4F",
)
GENDERS = ("男", "女")


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Parameters
    ----------
    name : str
    dtype : {'str', 'int', 'float', 'bool', 'date', 'datetime'}
    description : str
    nullable : bool, default=False
    unique : bool, default=False
    ge, le : float, optional
        Inclusive bounds for numbers.
    allowed : tuple of str, optional
        The codes a ``str`` column may hold.
    references : str, optional
        ``"table.column"`` this column must point into (a foreign key).
    identifier : bool, default=False
        Whether the column directly identifies a person (name, phone, ID
        number, bank account, address); de-identification removes these.
    """

    name: str
    dtype: str
    description: str
    nullable: bool = False
    unique: bool = False
    ge: float | None = None
    le: float | None = None
    allowed: tuple[str, ...] | None = None
    references: str | None = None
    identifier: bool = False


@dataclass(frozen=True)
class DateOrder:
    """Row rule: ``earlier`` is on or before ``later`` where both are present."""

    earlier: str
    later: str


@dataclass(frozen=True)
class Table:
    """A table of the contract."""

    name: str
    area: str
    key: str | tuple[str, ...]
    description: str
    columns: tuple[Column, ...]
    date_orders: tuple[DateOrder, ...] = field(default_factory=tuple)
    #: an optional table may be absent (a warning, not an error); its absence switches off what needs it
    optional: bool = False

    @property
    def key_columns(self) -> tuple[str, ...]:
        return (self.key,) if isinstance(self.key, str) else tuple(self.key)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column
_S, _I, _F, _B, _D, _T = "str", "int", "float", "bool", "date", "datetime"

TABLES: tuple[Table, ...] = (
    # -- organisation ---------------------------------------------------------
    Table("departments", "organisation", "department_id", "Departments and purchasing stations' units.", (
        C("department_id", _S, "Department id", unique=True),
        C("name", _S, "Department name (Chinese)"),
        C("dept_type", _S, "Kind of department", allowed=DEPT_TYPES),
        C("county", _S, "County the department sits in"),
        C("parent_id", _S, "Parent department", nullable=True, references="departments.department_id"),
    )),
    Table("positions", "organisation", "position_id", "Post types with their integrity-risk sensitivity.", (
        C("position_id", _S, "Position id", unique=True),
        C("post_code", _S, "Post type code", allowed=POST_CODES),
        C("title_zh", _S, "Title in Chinese"),
        C("title_en", _S, "Title in English"),
        C("sensitivity", _I, "1 low, 2 medium, 3 high (sensitive post that should rotate)", ge=1, le=3),
    )),
    Table("employees", "organisation", "employee_id", "Everyone employed in the period, with identifiers.", (
        C("employee_id", _S, "Employee id", unique=True),
        C("name", _S, "Full name", identifier=True),
        C("gender", _S, "Gender", allowed=GENDERS),
        C("birth_date", _D, "Date of birth"),
        C("id_number", _S, "Resident ID number (fake)", unique=True, identifier=True),
        C("phone", _S, "Mobile phone", identifier=True),
        C("address", _S, "Home address", identifier=True),
        C("bank_account", _S, "Salary bank account", identifier=True),
        C("hire_date", _D, "Hire date"),
        C("leave_date", _D, "Leave date", nullable=True),
        C("department_id", _S, "Current department", references="departments.department_id"),
        C("position_id", _S, "Current position", references="positions.position_id"),
    ), (DateOrder("birth_date", "hire_date"), DateOrder("hire_date", "leave_date"))),
    Table("post_history", "organisation", "assignment_id", "Who held which post where, from when to when (rotation).", (
        C("assignment_id", _S, "Assignment id", unique=True),
        C("employee_id", _S, "Employee", references="employees.employee_id"),
        C("department_id", _S, "Department", references="departments.department_id"),
        C("position_id", _S, "Position", references="positions.position_id"),
        C("start_date", _D, "First day in the post"),
        C("end_date", _D, "Last day in the post (empty: still holds it)", nullable=True),
    ), (DateOrder("start_date", "end_date"),)),
    Table("reporting_lines", "organisation", "line_id", "Who reports to whom.", (
        C("line_id", _S, "Reporting line id", unique=True),
        C("employee_id", _S, "Employee", references="employees.employee_id"),
        C("manager_id", _S, "Manager", references="employees.employee_id"),
        C("start_date", _D, "From"),
        C("end_date", _D, "To", nullable=True),
    ), (DateOrder("start_date", "end_date"),)),
    # -- suppliers --------------------------------------------------------------
    Table("suppliers", "suppliers", "supplier_id", "Registered suppliers with their identifying attributes.", (
        C("supplier_id", _S, "Supplier id", unique=True),
        C("name", _S, "Company name"),
        C("credit_code", _S, "Unified social credit code (fake)", unique=True),
        C("registration_date", _D, "Business registration date"),
        C("registered_capital", _F, "Registered capital, CNY", ge=0),
        C("address", _S, "Registered address"),
        C("phone", _S, "Contact phone"),
        C("bank_account", _S, "Bank account"),
        C("legal_rep_name", _S, "Legal representative's name", identifier=True),
        C("legal_rep_id_number", _S, "Legal representative's ID number", identifier=True),
        C("legal_rep_phone", _S, "Legal representative's phone", identifier=True),
        C("main_category_id", _S, "Main item category", references="categories.category_id"),
    )),
    # -- procurement --------------------------------------------------------
    Table("categories", "procurement", "category_id", "Item categories the company buys.", (
        C("category_id", _S, "Category id", unique=True),
        C("name_zh", _S, "Name in Chinese"),
        C("name_en", _S, "Name in English"),
        C("unit", _S, "Unit of quantity"),
        C("single_source", _B, "Whether only one supplier can legitimately provide it"),
    )),
    Table("market_prices", "procurement", ("category_id", "month"), "Market reference unit price per category and month.", (
        C("category_id", _S, "Category", references="categories.category_id"),
        C("month", _D, "First day of the month"),
        C("reference_unit_price", _F, "Market average unit price, CNY", ge=0),
    )),
    Table("budget_lines", "procurement", "budget_line_id", "Annual budget per department and category.", (
        C("budget_line_id", _S, "Budget line id", unique=True),
        C("department_id", _S, "Department", references="departments.department_id"),
        C("category_id", _S, "Category", references="categories.category_id"),
        C("year", _I, "Budget year", ge=2000, le=2100),
        C("amount", _F, "Budgeted amount, CNY", ge=0),
    )),
    Table("requisitions", "procurement", "requisition_id", "Purchase requests.", (
        C("requisition_id", _S, "Requisition id", unique=True),
        C("department_id", _S, "Requesting department", references="departments.department_id"),
        C("requester_id", _S, "Requester", references="employees.employee_id"),
        C("category_id", _S, "Category", references="categories.category_id"),
        C("budget_line_id", _S, "Budget line charged", references="budget_lines.budget_line_id"),
        C("request_date", _D, "Date of request"),
        C("quantity", _F, "Quantity", ge=0),
        C("estimated_amount", _F, "Estimated amount, CNY", ge=0),
        C("urgent", _B, "Marked urgent"),
    )),
    Table("approvals", "procurement", "approval_id", "Approval steps on requisitions.", (
        C("approval_id", _S, "Approval id", unique=True),
        C("requisition_id", _S, "Requisition", references="requisitions.requisition_id"),
        C("approver_id", _S, "Approver", references="employees.employee_id"),
        C("level", _I, "Approval level (1 department head, 2 finance, 3 leadership)", ge=1, le=3),
        C("decision", _S, "Decision", allowed=APPROVAL_DECISIONS),
        C("decided_at", _T, "When it was decided"),
    )),
    Table("tenders", "procurement", "tender_id", "Tenders (above the tender limit a tender is required).", (
        C("tender_id", _S, "Tender id", unique=True),
        C("requisition_id", _S, "Requisition", references="requisitions.requisition_id"),
        C("department_id", _S, "Department", references="departments.department_id"),
        C("category_id", _S, "Category", references="categories.category_id"),
        C("method", _S, "Procurement method", allowed=TENDER_METHODS),
        C("publish_date", _D, "Published"),
        C("close_date", _D, "Bids closed"),
        C("quantity", _F, "Quantity tendered", ge=0),
        C("estimated_amount", _F, "Estimated amount, CNY", ge=0),
        C("winner_supplier_id", _S, "Winning supplier", nullable=True, references="suppliers.supplier_id"),
        C("awarded_amount", _F, "Awarded amount, CNY", nullable=True, ge=0),
    ), (DateOrder("publish_date", "close_date"),)),
    Table("bids", "procurement", "bid_id", "Every bid submitted in a tender.", (
        C("bid_id", _S, "Bid id", unique=True),
        C("tender_id", _S, "Tender", references="tenders.tender_id"),
        C("supplier_id", _S, "Bidder", references="suppliers.supplier_id"),
        C("bid_amount", _F, "Bid amount, CNY", ge=0),
        C("submitted_at", _T, "Submission time"),
        C("is_winner", _B, "Whether this bid won"),
    )),
    Table("purchase_orders", "procurement", "po_id", "Purchase orders.", (
        C("po_id", _S, "Purchase order id", unique=True),
        C("requisition_id", _S, "Requisition", references="requisitions.requisition_id"),
        C("tender_id", _S, "Tender, if one was held", nullable=True, references="tenders.tender_id"),
        C("supplier_id", _S, "Supplier", references="suppliers.supplier_id"),
        C("department_id", _S, "Department", references="departments.department_id"),
        C("buyer_id", _S, "Employee who placed the order", references="employees.employee_id"),
        C("category_id", _S, "Category", references="categories.category_id"),
        C("order_date", _D, "Order date"),
        C("quantity", _F, "Quantity", ge=0),
        C("unit_price", _F, "Unit price, CNY", ge=0),
        C("amount", _F, "Amount, CNY", ge=0),
    )),
    Table("goods_receipts", "procurement", "receipt_id", "Goods received against orders.", (
        C("receipt_id", _S, "Receipt id", unique=True),
        C("po_id", _S, "Purchase order", references="purchase_orders.po_id"),
        C("receiver_id", _S, "Warehouse keeper who received", references="employees.employee_id"),
        C("receipt_date", _D, "Receipt date"),
        C("quantity", _F, "Quantity received", ge=0),
    )),
    Table("invoices", "procurement", "invoice_id", "Supplier invoices.", (
        C("invoice_id", _S, "Invoice id", unique=True),
        C("invoice_number", _S, "Invoice number printed on the fapiao"),
        C("po_id", _S, "Purchase order", references="purchase_orders.po_id"),
        C("supplier_id", _S, "Supplier", references="suppliers.supplier_id"),
        C("invoice_date", _D, "Invoice date"),
        C("amount", _F, "Amount, CNY", ge=0),
    )),
    Table("payments", "procurement", "payment_id", "Payments to suppliers.", (
        C("payment_id", _S, "Payment id", unique=True),
        C("invoice_id", _S, "Invoice paid", references="invoices.invoice_id"),
        C("po_id", _S, "Purchase order", references="purchase_orders.po_id"),
        C("payer_id", _S, "Cashier", references="employees.employee_id"),
        C("payment_date", _D, "Payment date"),
        C("amount", _F, "Amount, CNY", ge=0),
        C("bank_account", _S, "Account paid into"),
    )),
    # -- reimbursement ------------------------------------------------------
    Table("travel_records", "reimbursement", "trip_id", "Approved business trips.", (
        C("trip_id", _S, "Trip id", unique=True),
        C("employee_id", _S, "Traveller", references="employees.employee_id"),
        C("approver_id", _S, "Approver", references="employees.employee_id"),
        C("destination_city", _S, "Destination city"),
        C("start_date", _D, "First day"),
        C("end_date", _D, "Last day"),
        C("purpose", _S, "Purpose (Chinese)"),
    ), (DateOrder("start_date", "end_date"),)),
    Table("claims", "reimbursement", "claim_id", "Expense reimbursement claims.", (
        C("claim_id", _S, "Claim id", unique=True),
        C("employee_id", _S, "Claimant", references="employees.employee_id"),
        C("approver_id", _S, "Approver", references="employees.employee_id"),
        C("category", _S, "Expense category", allowed=CLAIM_CATEGORIES),
        C("expense_date", _D, "Day the expense was incurred"),
        C("submit_date", _D, "Day the claim was submitted"),
        C("city", _S, "City of the expense"),
        C("amount", _F, "Amount, CNY", ge=0),
        C("invoice_number", _S, "Invoice (fapiao) number"),
        C("trip_id", _S, "Trip the claim declares", nullable=True, references="travel_records.trip_id"),
        C("description", _S, "Description (Chinese)"),
    ), (DateOrder("expense_date", "submit_date"),)),
    # -- leaf purchasing ----------------------------------------------------
    Table("stations", "leaf", "station_id", "Leaf-purchasing stations.", (
        C("station_id", _S, "Station id", unique=True),
        C("department_id", _S, "The station's department", references="departments.department_id"),
        C("name", _S, "Station name"),
        C("county", _S, "County"),
        C("township", _S, "Township served"),
    )),
    Table("station_plans", "leaf", ("station_id", "year"), "Annual purchasing plan per station.", (
        C("station_id", _S, "Station", references="stations.station_id"),
        C("year", _I, "Crop year", ge=2000, le=2100),
        C("plan_kg", _F, "Planned purchase, kg", ge=0),
    )),
    Table("growers", "leaf", "grower_id", "Tobacco growers (farmers and cooperatives).", (
        C("grower_id", _S, "Grower id", unique=True),
        C("name", _S, "Name", identifier=True),
        C("id_number", _S, "ID number (fake)", identifier=True),
        C("phone", _S, "Phone", identifier=True),
        C("address", _S, "Village address", identifier=True),
        C("bank_account", _S, "Account payments go to", identifier=True),
        C("station_id", _S, "Home station", references="stations.station_id"),
        C("is_cooperative", _B, "Whether the grower is a cooperative"),
    )),
    Table("grower_contracts", "leaf", "contract_id", "Annual purchase contracts with growers.", (
        C("contract_id", _S, "Contract id", unique=True),
        C("grower_id", _S, "Grower", references="growers.grower_id"),
        C("station_id", _S, "Station", references="stations.station_id"),
        C("year", _I, "Crop year", ge=2000, le=2100),
        C("area_mu", _F, "Planted area, mu", ge=0),
        C("contracted_kg", _F, "Contracted quantity, kg", ge=0),
    )),
    Table("grade_prices", "leaf", ("year", "grade"), "Official purchase price per grade and year.", (
        C("year", _I, "Crop year", ge=2000, le=2100),
        C("grade", _S, "Grade code", allowed=LEAF_GRADES),
        C("price_per_kg", _F, "Price, CNY per kg", ge=0),
    )),
    Table("leaf_purchases", "leaf", "purchase_id", "Leaf purchase transactions at stations.", (
        C("purchase_id", _S, "Purchase id", unique=True),
        C("station_id", _S, "Station", references="stations.station_id"),
        C("grader_id", _S, "Grader who assigned the grade", references="employees.employee_id"),
        C("grower_id", _S, "Grower", references="growers.grower_id"),
        C("contract_id", _S, "Contract (empty: none)", nullable=True, references="grower_contracts.contract_id"),
        C("purchased_at", _T, "Time of purchase"),
        C("grade", _S, "Assigned grade", allowed=LEAF_GRADES),
        C("weight_kg", _F, "Net weight, kg", ge=0),
        C("unit_price", _F, "Price paid, CNY per kg", ge=0),
        C("amount", _F, "Amount, CNY", ge=0),
    )),
    # -- case archive -------------------------------------------------------
    Table("cases", "archive", "case_id", "Disciplinary cases (电子档案).", (
        C("case_id", _S, "Case id", unique=True),
        C("case_type", _S, "Case type code"),
        C("title", _S, "Title (Chinese)"),
        C("summary", _S, "Summary (Chinese)"),
        C("department_id", _S, "Department concerned", references="departments.department_id"),
        C("source", _S, "How the case came to light", allowed=CASE_SOURCES),
        C("opened_date", _D, "Opened"),
        C("closed_date", _D, "Closed", nullable=True),
        C("status", _S, "Status", allowed=CASE_STATUSES),
        C("disposition", _S, "Disposition (Chinese)", nullable=True),
    ), (DateOrder("opened_date", "closed_date"),)),
    Table("case_people", "archive", ("case_id", "employee_id"), "People a case concerns.", (
        C("case_id", _S, "Case", references="cases.case_id"),
        C("employee_id", _S, "Employee", references="employees.employee_id"),
        C("role", _S, "Role in the case", allowed=("subject", "related")),
    )),
    Table("interviews", "archive", "interview_id", "Interview records (谈话记录).", (
        C("interview_id", _S, "Interview id", unique=True),
        C("case_id", _S, "Case, if any", nullable=True, references="cases.case_id"),
        C("employee_id", _S, "Interviewee", references="employees.employee_id"),
        C("interviewer_id", _S, "Interviewer", references="employees.employee_id"),
        C("kind", _S, "Kind of interview", allowed=INTERVIEW_KINDS),
        C("interview_date", _D, "Date"),
        C("record_text", _S, "Record (Chinese)"),
    )),
    Table("rectifications", "archive", "rectification_id", "Rectification ledger (整改台账).", (
        C("rectification_id", _S, "Rectification id", unique=True),
        C("case_id", _S, "Case", references="cases.case_id"),
        C("department_id", _S, "Department responsible", references="departments.department_id"),
        C("issue_text", _S, "Problem found (Chinese)"),
        C("measure_text", _S, "Measure (Chinese)"),
        C("due_date", _D, "Due"),
        C("completed_date", _D, "Completed", nullable=True),
        C("status", _S, "Status", allowed=RECTIFICATION_STATUSES),
    )),
    # -- education ----------------------------------------------------------
    Table("materials", "education", "material_id", "Integrity-education materials.", (
        C("material_id", _S, "Material id", unique=True),
        C("title", _S, "Title (Chinese)"),
        C("kind", _S, "Kind", allowed=MATERIAL_KINDS),
        C("topic_tags", _S, "Topic tags, ';'-separated"),
        C("target_posts", _S, "Post codes it targets, ';'-separated, or 'all'"),
        C("minutes", _F, "Length in minutes", ge=0),
        C("credits", _F, "Learning credits", ge=0),
        C("published_date", _D, "Published"),
    )),
    Table("learning_events", "education", "event_id", "Who studied what, when, for how long, with what score.", (
        C("event_id", _S, "Event id", unique=True),
        C("employee_id", _S, "Learner", references="employees.employee_id"),
        C("material_id", _S, "Material", references="materials.material_id"),
        C("started_at", _T, "Start"),
        C("minutes", _F, "Minutes spent", ge=0),
        C("completed", _B, "Completed"),
        C("test_score", _F, "Test score, 0-100", nullable=True, ge=0, le=100),
        C("points", _F, "Learning points earned", ge=0),
    )),
    Table("alert_reviews", "reviews", "review_id", "Past alerts and the reviewers' decisions on them (the existing "
          "platform's warnings, reports from the public, and riskmodel's own queue once in use).", (
        C("review_id", _S, "Review id", unique=True),
        C("entity_type", _S, "What was reviewed", allowed=("employee", "supplier", "grower", "tender", "claim", "purchase_order", "leaf_purchase")),
        C("entity_id", _S, "Id of what was reviewed"),
        C("period", _D, "First day of the quarter the alert was about"),
        C("source", _S, "Where the alert came from", allowed=("legacy_platform", "public_report", "riskmodel")),
        C("decision", _S, "The reviewer's decision", allowed=("confirmed", "dismissed", "needs_information")),
        C("decided_at", _D, "When it was decided"),
        C("reviewer_role", _S, "Role of the reviewer", allowed=("supervisor", "analyst", "model_reviewer", "education_officer", "leadership")),
    ), (DateOrder("period", "decided_at"),), optional=True),
    Table("credit_requirements", "education", ("position_id", "year"), "Required learning credits per post and year.", (
        C("position_id", _S, "Position", references="positions.position_id"),
        C("year", _I, "Year", ge=2000, le=2100),
        C("required_credits", _F, "Required credits", ge=0),
    )),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
TABLE_NAMES: tuple[str, ...] = tuple(TABLES_BY_NAME)

# Ground truth (written under DIR/truth/, read only by evaluation) -------------
ENTITY_TYPES = ("employee", "supplier", "grower", "tender", "claim", "purchase_order", "leaf_purchase")
TRUTH_TABLES: tuple[Table, ...] = (
    Table("schemes", "truth", "scheme_id", "Planted schemes.", (
        C("scheme_id", _S, "Scheme id", unique=True),
        C("scheme_type", _S, "Scheme type"),
        C("start_date", _D, "First day"),
        C("end_date", _D, "Last day"),
    ), (DateOrder("start_date", "end_date"),)),
    Table("scheme_entities", "truth", ("scheme_id", "entity_type", "entity_id"), "Entities taking part in a scheme.", (
        C("scheme_id", _S, "Scheme", references="schemes.scheme_id"),
        C("entity_type", _S, "Entity type", allowed=ENTITY_TYPES),
        C("entity_id", _S, "Entity id"),
    )),
    Table("lookalikes", "truth", "lookalike_id", "Benign look-alikes planted to trip naive rules.", (
        C("lookalike_id", _S, "Look-alike id", unique=True),
        C("lookalike_type", _S, "Look-alike type"),
        C("mimics", _S, "Scheme type it resembles"),
    )),
    Table("lookalike_entities", "truth", ("lookalike_id", "entity_type", "entity_id"), "Entities of a look-alike.", (
        C("lookalike_id", _S, "Look-alike", references="lookalikes.lookalike_id"),
        C("entity_type", _S, "Entity type", allowed=ENTITY_TYPES),
        C("entity_id", _S, "Entity id"),
    )),
)


def identifier_columns() -> dict[str, list[str]]:
    """Columns that directly identify a person, by table.

    Examples
    --------
    >>> identifier_columns()["employees"][:2]
    ['name', 'id_number']
    """
    return {t.name: [c.name for c in t.columns if c.identifier] for t in TABLES if any(c.identifier for c in t.columns)}
