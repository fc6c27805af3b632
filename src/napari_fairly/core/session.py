"""One acquisition's state: the file, the form and its corrections, the checks, and
the operator's decisions.

A :class:`Session` is the one owner of what the operator sees, corrects and checks for
one opened scene. The dock widgets, the ``fairly`` commands and a batch all hold a
reference to it (never a copy) and change it through its methods; it emits
``changed`` with what changed, so every view shows the same state (napari-animation's
one model, many views). What is saved is read from it: the effective metadata (the
file's values overlaid by the corrections), the QC report computed on exactly those
values, and the acceptance of failed checks for that report.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Generator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from napari_fairly.core.corrections import effective_metadata, is_correction
from napari_fairly.core.errors import FormNotReadyError, InvalidFormValueError
from napari_fairly.core.form import (
    FairForm,
    field_label,
    form_issues,
    form_source_problem,
    get_field,
    prefill_form,
    profile_from_form,
    set_fields,
    sync_acquisition,
)
from napari_fairly.core.formats._common import DeferredPixels
from napari_fairly.core.i18n import current_language
from napari_fairly.core.model import FrozenModel, Status
from napari_fairly.core.qc import QcParameters

if TYPE_CHECKING:
    import dask.array as da

    from napari_fairly.core.metadata import AcquisitionMetadata
    from napari_fairly.core.progress import Progress
    from napari_fairly.core.qc import QcReport
    from napari_fairly.core.reading import Acquisition
    from napari_fairly.core.settings import FacilityTemplate, OperatorProfile


class Acceptance(FrozenModel):
    """The operator accepted the failed checks of one report (recorded in the sidecar).

    ``report_key`` ties it to the inputs the report was computed from: any change of
    the acquisition, the corrections or the QC parameters makes it void.
    """

    checks: tuple[str, ...]  # "nyquist_lateral (channel 2)"…
    by: str
    at: str  # ISO 8601 with offset
    report_key: str


def failed_checks(report: QcReport) -> tuple[str, ...]:
    """The failed checks of ``report``, one text each, in report order."""
    out: list[str] = []
    for row in report.rows:
        if row.severity.value != "error":
            continue
        where = f" (channel {row.channel + 1})" if row.channel is not None else ""
        text = f"{row.check}{where}"
        if text not in out:
            out.append(text)
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class SaveGate:
    """Whether the session can be saved now, and if not, why (GUI and CLI alike)."""

    form_problems: tuple[tuple[str, str], ...]  # (field, message); any blocks
    report: QcReport | None  # the current report; None: checks not run yet
    acceptance: Acceptance | None  # for the current report

    @property
    def form_ready(self) -> bool:
        """True when the form is complete, valid and made for this acquisition."""
        return not self.form_problems

    @property
    def qc_failed(self) -> bool:
        """True when the current report has a failed check."""
        return self.report is not None and self.report.failed

    @property
    def can_save(self) -> bool:
        """Form ready, checks run, and none failed unless the operator accepted."""
        return (
            self.form_ready
            and self.report is not None
            and (not self.qc_failed or self.acceptance is not None)
        )


def _reoriented(acq: Acquisition, metadata: AcquisitionMetadata) -> Acquisition:
    """``acq`` with its stack on the axis the operator said (Z ↔ T), if corrected."""
    axis = metadata.stack_axis
    size_t, _c, size_z = acq.shape[:3]
    swap = axis.status is Status.OPERATOR and (
        (axis.value == "T" and size_t == 1 and size_z > 1)
        or (axis.value == "Z" and size_z == 1 and size_t > 1)
    )
    if not swap:
        return dataclasses.replace(acq, metadata=metadata)
    order = [2, 1, 0, *range(3, len(acq.shape))]
    shape = dict(metadata.shape)
    shape["T"], shape["Z"] = shape.get("Z", 1), shape.get("T", 1)
    source_reader = acq.plane_reader
    reader = None
    if source_reader is not None:

        def reader(t: int, c: int, z: int) -> Any:
            return source_reader(z, c, t)

    return dataclasses.replace(
        acq,
        pixels=DeferredPixels(
            tuple(acq.shape[k] for k in order),
            acq.dtype,
            tuple(acq.pixels.chunks[k] for k in order),
            lambda: _transposed(acq.data, order),
        ),
        metadata=metadata.replace(shape=shape),
        plane_reader=reader,
    )


def _transposed(data: da.Array, order: list[int]) -> da.Array:
    import dask.array as da

    out: da.Array = da.transpose(data, order)
    return out


class Session:
    """The state of one opened acquisition (scene), shared by every view of it.

    Parameters
    ----------
    acquisition
        The scene as read from the file (never changed).
    form
        A form to start from (a loaded form file); else one prefilled from the file,
        the template and ``profile`` (the operator's last entries: operator-level
        fields such as creator and project, marked as coming from the profile).
    template
        The facility template: form rules and defaults, QC thresholds.
    parameters
        QC parameters that are not acquisition metadata (camera gain, STED…).
    language
        Language of the checks' messages; default: the one texts are shown in
        (:func:`~napari_fairly.core.i18n.current_language`).
    any_scene
        The form is shared by every scene of the file (``--all-scenes``): it is not
        refused for naming another scene.

    Raises
    ------
    FormNotReadyError
        When ``form`` was made for another acquisition.
    """

    changed = Signal(str)  # "form", "report", "acceptance", "parameters"

    def __init__(
        self,
        acquisition: Acquisition,
        form: FairForm | None = None,
        *,
        template: FacilityTemplate | None = None,
        profile: OperatorProfile | None = None,
        parameters: QcParameters | None = None,
        language: str | None = None,
        any_scene: bool = False,
    ) -> None:
        self._source = acquisition
        self._template = template
        self._any_scene = any_scene
        self._parameters = parameters or QcParameters()
        self._language = language or current_language()
        self._report: QcReport | None = None
        self._report_key: str | None = None
        self._acceptance: Acceptance | None = None
        self.qc_runs = 0  # how many times the checks ran for this session
        if form is None:
            form = prefill_form(acquisition.metadata, template, profile)
        else:
            self._check_made_for_this(form)
            form = sync_acquisition(form, acquisition.metadata)
        self._form = form

    # ------------------------------------------------------------------ reading

    @property
    def source(self) -> Acquisition:
        """The acquisition as read from the file, before any correction."""
        return self._source

    @property
    def template(self) -> FacilityTemplate | None:
        """The facility template in use, if any."""
        return self._template

    @property
    def form(self) -> FairForm:
        """The FAIR form, with the corrections (``form.corrections``)."""
        return self._form

    @property
    def parameters(self) -> QcParameters:
        """QC parameters that are not acquisition metadata."""
        return self._parameters

    @property
    def thresholds(self) -> dict[str, float] | None:
        """The facility template's QC thresholds, if it sets any."""
        if self._template is None:
            return None
        return dict(self._template.options.qc_thresholds) or None

    @property
    def language(self) -> str:
        """Language of the checks' messages."""
        return self._language

    @cached_property
    def metadata(self) -> AcquisitionMetadata:
        """The file's metadata overlaid by the corrections: checked and saved."""
        return effective_metadata(self._source.metadata, self._form.corrections)

    @cached_property
    def acquisition(self) -> Acquisition:
        """The acquisition with the effective metadata (and stack axis)."""
        return _reoriented(self._source, self.metadata)

    # ------------------------------------------------------------------ changing

    def set_fields(self, values: Mapping[str, Any], source: str = "operator") -> None:
        """Set form fields and corrections (dotted names); checked, then announced.

        Raises
        ------
        InvalidFormValueError
            A value of the wrong type or out of range, or a field the template fixes.
        """
        form = set_fields(self._form, values, source)
        channels = len(self._source.metadata.channels)
        for name, problem in form.corrections.problems(channels):
            if name in values:
                raise InvalidFormValueError(
                    f"{name}: {problem}.", fix="Correct an existing channel."
                )
        self._replace_form(sync_acquisition(form, self._source.metadata))
        template = self._template
        described = template is not None and any(
            i.hardware or i.manufacturer for i in template.instruments
        )
        if "image_acquisition.instrument" in values and described:
            # another instrument: its hardware (objective, manufacturer) applies
            self.set_template(template)

    def set_form(self, form: FairForm) -> None:
        """Use ``form`` (a loaded form file) for this acquisition.

        Raises
        ------
        FormNotReadyError
            When the form was made for another acquisition.
        """
        self._check_made_for_this(form)
        self._replace_form(sync_acquisition(form, self._source.metadata))

    def set_template(self, template: FacilityTemplate | None) -> None:
        """Use ``template``; what the operator typed is kept, the rest prefilled.

        Values that came from the operator's profile stay, still marked as such; a
        template the form cannot use (unknown fields) is refused and not kept.

        Raises
        ------
        TemplateError
            When the template names fields the form does not have.
        InvalidFormValueError
            When a typed value contradicts a field the template fixes.
        """
        typed = {
            path: get_field(self._form, path)
            for path, source in self._form.sources.items()
            if source == "operator"
            and not is_correction(path)
            and path != "image_acquisition.channels"
        }
        corrections = {
            name: item.value
            for name, item in self._form.corrections.values.items()
            if item.source == "operator"
        }
        remembered = profile_from_form(self._form)
        profile = remembered.replace(
            last={
                path: value
                for path, value in remembered.last.items()
                if self._form.sources.get(path, "").startswith("profile")
            }
        )
        form = prefill_form(
            self._source.metadata, template, profile, {**typed, **corrections}
        )
        self._template = template
        self._replace_form(form)

    def set_parameters(self, parameters: QcParameters) -> None:
        """Use other QC parameters (camera gain, STED factor…)."""
        if parameters == self._parameters:
            return
        self._parameters = parameters
        self._invalidate()
        self.changed.emit("parameters")

    def set_language(self, language: str) -> None:
        """Write the checks' messages in ``language`` (the report must be run again)."""
        if language == self._language:
            return
        self._language = language
        self._invalidate()
        self.changed.emit("parameters")

    def _replace_form(self, form: FairForm) -> None:
        corrections_changed = form.corrections != self._form.corrections
        self._form = form
        if corrections_changed:
            self._invalidate()
        self.changed.emit("form")

    def _invalidate(self) -> None:
        """Drop what depends on the effective values; the report no longer applies."""
        for name in ("metadata", "acquisition"):
            self.__dict__.pop(name, None)
        had = self._acceptance is not None
        self._acceptance = None
        if self._report is not None and self._report_key != self.inputs_key():
            self._report = None
            self.changed.emit("report")
        if had:
            self.changed.emit("acceptance")

    def _check_made_for_this(self, form: FairForm) -> None:
        problem = form_source_problem(form, self._source.metadata, self._any_scene)
        if problem is not None:
            raise FormNotReadyError(
                f"{problem}.",
                problems=[("image_data.source_file", problem)],
                fix="Make the form for this file (fairly form FILE, or the FAIR form "
                "panel) instead of reusing another acquisition's.",
            )

    # ------------------------------------------------------------------ checks

    def inputs_key(self) -> str:
        """A digest of everything the checks depend on (values, parameters, limits)."""
        inputs = {
            "source": [str(self._source.path), self._source.scene_index],
            "metadata": self.metadata.model_dump(mode="json"),
            "parameters": self._parameters.model_dump(mode="json"),
            "thresholds": self.thresholds,
            "language": self._language,
        }
        text = json.dumps(inputs, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def report(self) -> QcReport | None:
        """The QC report computed on the current values, or None (not run, or stale)."""
        if self._report is None or self._report_key != self.inputs_key():
            return None
        return self._report

    def qc_steps(self) -> Generator[Progress, None, tuple[QcReport, str]]:
        """Run the checks on the effective acquisition; returns (report, key).

        Does not store the report (a GUI worker hands it to :meth:`set_report` in the
        main thread); :meth:`run_qc_steps` does both.
        """
        from napari_fairly.core.qc import run_qc_steps

        key = self.inputs_key()
        report = yield from run_qc_steps(
            self.acquisition, self._parameters, self.thresholds, language=self._language
        )
        return report, key

    def set_report(self, report: QcReport, key: str) -> None:
        """Keep ``report``, computed for inputs ``key``; a stale one is not kept."""
        self.qc_runs += 1
        if key != self.inputs_key():
            return
        self._report, self._report_key = report, key
        had = self._acceptance is not None
        self._acceptance = None
        self.changed.emit("report")
        if had:
            self.changed.emit("acceptance")

    def run_qc_steps(self) -> Generator[Progress, None, QcReport]:
        """The current report, or the checks run now (and kept)."""
        current = self.report
        if current is not None:
            return current
        report, key = yield from self.qc_steps()
        self.set_report(report, key)
        return report

    # ------------------------------------------------------------------ decisions

    @property
    def acceptance(self) -> Acceptance | None:
        """The operator's acceptance of the current report's failed checks, if any."""
        if self._acceptance is None or self.report is None:
            return None
        if self._acceptance.report_key != self._report_key:
            return None
        return self._acceptance

    def accept_failures(self, by: str) -> Acceptance:
        """Record that ``by`` accepts the current report's failed checks.

        Raises
        ------
        InvalidFormValueError
            When there is no current report, or nothing failed in it.
        """
        from napari_fairly.core.export.sidecar import now_iso

        report = self.report
        if report is None or not report.failed or self._report_key is None:
            raise InvalidFormValueError(
                "there are no failed checks to accept for the current values.",
                fix="Run the quality checks first.",
            )
        self._acceptance = Acceptance(
            checks=failed_checks(report),
            by=by or "operator",
            at=now_iso(),
            report_key=self._report_key,
        )
        self.changed.emit("acceptance")
        return self._acceptance

    def withdraw_acceptance(self) -> None:
        """Forget the acceptance (the operator unticked it)."""
        if self._acceptance is not None:
            self._acceptance = None
            self.changed.emit("acceptance")

    # ------------------------------------------------------------------ the gate

    def form_problems(self) -> list[tuple[str, str]]:
        """(field, message) for every error that stops a save (form and values)."""
        out = []
        channels = len(self._source.metadata.channels)
        for name, problem in self._form.corrections.problems(channels):
            out.append((name, problem))
        for issue in form_issues(self._form):
            if issue.severity == "error" and (issue.field, issue.message) not in out:
                fix = f" {issue.fix}" if issue.fix else ""
                out.append((issue.field, f"{issue.message}{fix}"))
        mismatch = form_source_problem(
            self._form, self._source.metadata, self._any_scene
        )
        if mismatch is not None:
            out.append(("image_data.source_file", mismatch))
        return out

    def gate(self) -> SaveGate:
        """Whether a save may go ahead now (see :class:`SaveGate`)."""
        return SaveGate(tuple(self.form_problems()), self.report, self.acceptance)

    def check_form_ready(self, form_file: str | None = None) -> None:
        """Raise unless the form is complete, valid and made for this acquisition.

        Raises
        ------
        FormNotReadyError
            Listing every field that blocks, naming ``form_file`` when given.
        """
        problems = self.form_problems()
        if not problems:
            return
        labelled = [(f"{field} ({field_label(field)})", m) for field, m in problems]
        where = f"the form {form_file}" if form_file else "the form"
        raise FormNotReadyError(
            f"{where} is not ready to save: {len(problems)} field(s) to fix.",
            problems=labelled,
            fix="Fix them (fairly form … --set FIELD=VALUE, or the FAIR form panel).",
        )

    def close(self) -> None:
        """Release the raw file's handles (pixels stay readable: reads reopen it)."""
        self._source.close()
