"""The FAIR assistant's steps: open → metadata → form → checks → save.

Each step's state (done, to do, needs attention, blocked) and why, in plain words,
computed from the one :class:`~napari_fairly.core.session.Session` the panels share:
the assistant only shows it. A blocked step is not passed without an explicit
"continue anyway"; on failed checks that is the save gate's own acceptance
(:meth:`Session.accept_failures`: recorded, and void when a value changes), never a
second mechanism. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from napari_fairly.core.form import field_label
from napari_fairly.core.i18n import N_, _, ngettext
from napari_fairly.core.words import (
    channel_words,
    check_words,
    metadata_field_words,
    names_words,
    verdict_words,
)

if TYPE_CHECKING:
    from napari_fairly.core.form import FairForm, FormIssue
    from napari_fairly.core.qc import CheckResult, QcReport
    from napari_fairly.core.session import Session

STEPS = ("open", "metadata", "form", "checks", "save")
TITLES: dict[str, tuple[str, str]] = {
    "open": (N_("Open"), N_("Open the raw file")),
    "metadata": (N_("Metadata"), N_("See what the file says")),
    "form": (N_("Form"), N_("Describe the dataset")),
    "checks": (N_("Checks"), N_("Check the quality")),
    "save": (N_("Save"), N_("Save the FAIR dataset")),
}
# values a template or the operator's last entries may set for the biology: they
# describe this sample, so the operator confirms them
BIOLOGY_FIELDS = (
    "biosample.organism",
    "biosample.biological_entity",
    "biosample.intrinsic_variables",
)


class State(str, Enum):
    """Where a step stands."""

    DONE = "done"
    TODO = "todo"
    ATTENTION = "attention"
    BLOCKED = "blocked"


STATE_WORDS: dict[State, str] = {
    State.DONE: N_("done"),
    State.TODO: N_("to do"),
    State.ATTENTION: N_("needs attention"),
    State.BLOCKED: N_("blocked"),
}


@dataclass(frozen=True)
class Step:
    """One step of the flow: its state, a one-line summary and the details.

    ``override`` says what "continue anyway" does at a blocked step, as the end of
    the sentence "Continue anyway: …" ("" when the step cannot be passed at all,
    e.g. nothing is open).
    """

    key: str
    state: State
    summary: str
    reasons: tuple[str, ...] = ()
    override: str = ""

    @property
    def title(self) -> str:
        """Short title ("Checks")."""
        return _(TITLES[self.key][0])

    @property
    def heading(self) -> str:
        """Full title ("Check the quality")."""
        return _(TITLES[self.key][1])

    @property
    def state_words(self) -> str:
        """The state in words ("needs attention")."""
        return _(STATE_WORDS[self.state])

    @property
    def blocked(self) -> bool:
        """True when the flow should not go on without "continue anyway"."""
        return self.state is State.BLOCKED


def name_status(
    form: FairForm, issues: list[FormIssue] | None = None
) -> tuple[str, str]:
    """The dataset's name, or in words what stops it, and its state.

    The state is ``valid``, ``warning`` (a name, with a remark) or ``invalid``
    ("Name incomplete: fill Project acronym, Sample / experiment.").
    """
    from napari_fairly.core.errors import FairlyError
    from napari_fairly.core.form import form_issues

    naming = [i for i in (issues or form_issues(form)) if i.field.startswith("naming")]
    blocking = _name_problems(naming)
    if blocking:
        return blocking, "invalid"
    warnings = [i for i in naming if i.severity == "warning"]
    try:
        text = form.name()
    except FairlyError as err:  # pragma: no cover - form_issues reports it
        return str(err), "invalid"
    if warnings:
        return text + "\n" + "; ".join(i.message for i in warnings), "warning"
    return text, "valid"


def _name_problems(naming: list[FormIssue]) -> str:
    """What stops the name, in words ("" when nothing does)."""
    empty = [i for i in naming if i.code == "required"]
    invalid = [i for i in naming if i.severity == "error" and i.code != "required"]
    lines = []
    if invalid:
        lines.append(
            _("Name not valid: {problems}").format(
                problems="; ".join(i.message for i in invalid)
            )
        )
    if empty:
        missing = ", ".join(field_label(i.field) for i in empty)
        lines.append(_("Name incomplete: fill {fields}.").format(fields=missing))
    return "\n".join(lines)


def values_to_confirm(form: FairForm) -> list[str]:
    """Biology fields set by a template or the last entries, not confirmed yet.

    A template's organism may be right for most samples of a facility and wrong for
    this one (a Toxoplasma sample in a mouse facility): it is shown as "from the
    template" and counts as the operator's once confirmed.
    """
    out = []
    for path in BIOLOGY_FIELDS:
        source = form.sources.get(path, "")
        if source.startswith(("template:", "profile:")):
            out.append(path)
    return out


def confirm_values(session: Session, paths: list[str]) -> None:
    """The operator confirms ``paths``: their values become the operator's own."""
    from napari_fairly.core.form import get_field

    values = {path: get_field(session.form, path) for path in paths}
    session.set_fields(values)


def flow_steps(
    session: Session | None, *, saved: str | None = None, foreign: str | None = None
) -> tuple[Step, ...]:
    """The five steps for ``session`` (None: nothing of ours is open).

    ``saved``: the folder a save of this session wrote, if any; ``foreign``: the
    file of a selected layer that another reader opened (offered to open again).
    """
    if session is None:
        return _nothing_open(foreign)
    return (
        _open_step(session),
        _metadata_step(session),
        _form_step(session),
        _checks_step(session),
        _save_step(session, saved),
    )


def _nothing_open(foreign: str | None) -> tuple[Step, ...]:
    if foreign:
        summary = _(
            "The selected layer was opened by another reader: open {file} here to "
            "check and save it."
        ).format(file=foreign)
    else:
        summary = _("No acquisition is open: open a raw file, or the demo.")
    first = Step("open", State.BLOCKED, summary)
    later = _("Open an acquisition first.")
    return (first, *(Step(key, State.BLOCKED, later) for key in STEPS[1:]))


def _open_step(session: Session) -> Step:
    acq = session.source
    meta = acq.metadata
    count = len(acq.scene_names) or 1
    planes = meta.shape.get("Z", 1) * meta.shape.get("T", 1)
    summary = _(
        "{file}, scene {scene} of {count}: {channels} and {planes}, opened read-only."
    ).format(
        file=acq.path.name,
        scene=acq.scene_index + 1,
        count=count,
        channels=ngettext("%(n)d channel", "%(n)d channels", meta.shape.get("C", 1))
        % {"n": meta.shape.get("C", 1)},
        planes=ngettext("%(n)d plane", "%(n)d planes", planes) % {"n": planes},
    )
    return Step("open", State.DONE, summary)


def _value_names(session: Session, fields: list[str]) -> list[str]:
    """``channels[1].emission_wavelength_nm`` → "Emission (channel 2)"."""
    out = []
    for field in fields:
        words = metadata_field_words(field)
        if field.startswith("channels["):
            number = int(field.split("[", 1)[1].split("]", 1)[0]) + 1
            words = _("{field} (channel {number})").format(field=words, number=number)
        out.append(words)
    return out


def _metadata_step(session: Session) -> Step:
    meta = session.metadata
    missing = meta.missing_fields()
    skipped = len(meta.not_applicable())
    corrected = len(session.form.corrections.values)
    reasons = []
    if corrected:
        reasons.append(
            ngettext(
                "%(n)d value corrected by you",
                "%(n)d values corrected by you",
                corrected,
            )
            % {"n": corrected}
        )
    if missing:
        summary = ngettext(
            "%(n)d value the file should state is missing: %(names)s.",
            "%(n)d values the file should state are missing: %(names)s.",
            len(missing),
        ) % {"n": len(missing), "names": names_words(_value_names(session, missing))}
        reasons.append(
            _(
                "Correct or complete them in the checks' values or the form if you "
                "know them; otherwise they stay missing, never guessed."
            )
        )
        return Step("metadata", State.ATTENTION, summary, tuple(reasons))
    summary = ngettext(
        "Every value that applies is in the file (%(n)d does not apply here).",
        "Every value that applies is in the file (%(n)d do not apply here).",
        skipped,
    ) % {"n": skipped}
    return Step("metadata", State.DONE, summary, tuple(reasons))


def _form_step(session: Session) -> Step:
    problems = session.form_problems()
    confirm = values_to_confirm(session.form)
    if problems:
        labels = list(dict.fromkeys(field_label(f.split("[")[0]) for f, _m in problems))
        summary = ngettext(
            "%(n)d field to fill or fix before saving: %(names)s.",
            "%(n)d fields to fill or fix before saving: %(names)s.",
            len(labels),
        ) % {"n": len(labels), "names": names_words(labels)}
        override = _(
            "the checks can run now; the save stays locked until the form is complete."
        )
        return Step("form", State.BLOCKED, summary, _confirm_reasons(confirm), override)
    if confirm:
        return Step(
            "form",
            State.ATTENTION,
            _("The form is complete; confirm the values set for the biology."),
            _confirm_reasons(confirm),
        )
    return Step("form", State.DONE, _("The form is complete and valid."))


def _confirm_reasons(paths: list[str]) -> tuple[str, ...]:
    return tuple(
        _(
            "{field}: set by a template or your last entries — is it right for "
            "this sample?"
        ).format(field=field_label(path))
        for path in paths
    )


def row_words(row: CheckResult) -> str:
    """ "Z sampling (channel 1 DAPI): undersampled" — one failed or flagged check."""
    where = channel_words(row.channel, row.channel_name)
    head = check_words(row.check, short=True)
    if where:
        head = _("{check} (channel {channel})").format(check=head, channel=where)
    return _("{check}: {verdict}").format(
        check=head, verdict=verdict_words(row.check, row.verdict, short=True)
    )


def _flagged(report: QcReport, severity: str) -> list[str]:
    rows = [r for r in report.summary_rows() if r.severity.value == severity]
    return list(dict.fromkeys(row_words(r) for r in rows))


def check_counts(report: QcReport) -> tuple[int, int]:
    """(failed, needing attention): each check of each channel counted once."""
    flagged = _flagged(report, "warning") + _flagged(report, "not_checked")
    return len(_flagged(report, "error")), len(flagged)


def _checks_step(session: Session) -> Step:
    report = session.report
    if report is None:
        return Step(
            "checks",
            State.TODO,
            _("Not run yet for the current values: run the quality checks."),
        )
    failed = _flagged(report, "error")
    acceptance = session.acceptance
    if failed and acceptance is None:
        summary = ngettext(
            "%(n)d check failed: correct the values if they are wrong, acquire "
            "again, or accept it.",
            "%(n)d checks failed: correct the values if they are wrong, acquire "
            "again, or accept them.",
            len(failed),
        ) % {"n": len(failed)}
        override = _(
            "the failed checks are accepted: your name and the time are recorded "
            "in the dataset, and the acceptance is void as soon as a value changes."
        )
        return Step("checks", State.BLOCKED, summary, tuple(failed), override)
    if failed and acceptance is not None:
        summary = _("Failed checks accepted by {by}: recorded in the dataset.").format(
            by=acceptance.by
        )
        return Step("checks", State.ATTENTION, summary, tuple(failed))
    flagged = _flagged(report, "warning") + _flagged(report, "not_checked")
    if flagged:
        summary = ngettext(
            "No check failed; %(n)d needs attention.",
            "No check failed; %(n)d need attention.",
            len(flagged),
        ) % {"n": len(flagged)}
        return Step("checks", State.ATTENTION, summary, tuple(flagged))
    return Step("checks", State.DONE, _("Every check passed."))


def _save_step(session: Session, saved: str | None) -> Step:
    if saved:
        return Step(
            "save", State.DONE, _("Saved and verified: {folder}").format(folder=saved)
        )
    gate = session.gate()
    if not gate.form_ready:
        return Step(
            "save",
            State.BLOCKED,
            _("The form is not ready: fill the fields the Form step lists."),
        )
    if gate.qc_failed and gate.acceptance is None:
        return Step(
            "save",
            State.BLOCKED,
            _("Checks failed and are not accepted: see the Checks step."),
        )
    if gate.report is None:
        return Step(
            "save",
            State.TODO,
            _("Ready: choose the output folder and save (the checks run first)."),
        )
    return Step("save", State.TODO, _("Ready: choose the output folder and save."))
