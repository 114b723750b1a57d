"""Pages of guided processes: a client's processes, one process with its steps and history,
a step's form, the team's board of open steps, and the admin's definitions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from casework.clients.services import audit_chart_read
from casework.coordination.pages import chart_page
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.models import User
from casework.processes import selectors, services
from casework.processes.bpmn import DefinitionInvalid
from casework.processes.forms import ReasonForm, ReassignForm, StartForm, StepForm, UploadForm
from casework.processes.models import ProcessInstance, ProcessStep


def _reader(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if user.agency is None or not access.may_read_narratives(user):
        raise PermissionDenied("Your role does not read clients' processes.")
    return user


def _admin(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if user.agency is None or not services.may_configure_processes(user):
        raise PermissionDenied("Only an agency admin manages the agency's processes.")
    return user


# A client's processes --------------------------------------------------------------------


@login_required
def client_processes(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    may_run = services.may_run_processes(user)
    form = StartForm(request.POST or None, user=user) if may_run else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Your role can follow processes but not start them.")
        if form.is_valid():
            try:
                instance = services.process_start(
                    client=client, key=form.cleaned_data["definition"].key, by=user
                )
            except services.AlreadyRunning as running:
                messages.info(request, str(running))
                return redirect("process_detail", running.instance.pk)
            except services.ProcessError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"{instance.definition.name} started.")
                return redirect("process_detail", instance.pk)
        status = 400
    audit_chart_read(user=user, client=client, what="processes")
    context = {
        "processes": selectors.client_processes(user=user, client=client),
        "form": form,
    }
    return chart_page(request, "processes/client_processes.html", client, context, status)


def _detail_context(user: User, instance: ProcessInstance) -> dict[str, Any]:
    detail = selectors.process_detail(instance=instance)
    may_run = services.may_run_processes(user) and instance.is_open
    return {
        "instance": instance,
        "detail": detail,
        "open_steps": [s for s in detail.steps if s.status == ProcessStep.Status.OPEN],
        "done_steps": [s for s in detail.steps if s.status != ProcessStep.Status.OPEN],
        "may_run": may_run,
        "reason_form": ReasonForm(),
        "reassign_form": ReassignForm(user=user, initial={"owner": instance.owner_id}),
    }


@login_required
def process_detail(request: HttpRequest, instance_id: int) -> HttpResponse:
    user = _reader(request)
    instance = selectors.instance_or_404(user, instance_id)
    audit_chart_read(user=user, client=instance.client, what="processes")
    context = _detail_context(user, instance)
    return chart_page(request, "processes/process_detail.html", instance.client, context)


@login_required
def step_detail(request: HttpRequest, instance_id: int, step_id: int) -> HttpResponse:
    user = _reader(request)
    instance = selectors.instance_or_404(user, instance_id)
    step = selectors.step_or_404(instance, step_id)
    spec = _step_spec(instance, step)
    form = StepForm(request.POST or None, spec=spec.spec, user=user) if spec else None
    status = 200
    if request.method == "POST":
        if not services.may_run_processes(user):
            raise PermissionDenied("Your role can follow processes but not run them.")
        if form is None:  # finished already (a second click, a colleague) or the process ended
            messages.info(request, str(services.StepAlreadyDone(step)))
            return redirect("process_detail", instance.pk)
        if form.is_valid():
            try:
                services.step_complete(by=user, step=step, answers=form.answers())
            except services.StepAlreadyDone as done:
                messages.info(request, str(done))
                return redirect("process_detail", instance.pk)
            except services.ProcessError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"“{step.title}” is done.")
                return redirect("process_detail", instance.pk)
        status = 400
    audit_chart_read(user=user, client=instance.client, what="processes")
    context = {
        "instance": instance,
        "step": step,
        "instructions": spec.instructions if spec else "",
        "form": form,
        "answers": _answer_rows(instance, step),
        "may_run": services.may_run_processes(user)
        and instance.status == ProcessInstance.Status.RUNNING,
    }
    return chart_page(request, "processes/step.html", instance.client, context, status)


def _step_spec(instance: ProcessInstance, step: ProcessStep) -> Any:
    """The step as its diagram version declares it (fields, instructions), if still open."""
    if step.status != ProcessStep.Status.OPEN or not instance.is_open:
        return None
    return selectors.open_step_spec(instance=instance, task_id=step.task_id)


def _answer_rows(instance: ProcessInstance, step: ProcessStep) -> list[tuple[str, Any]]:
    """A finished step's answers under the labels its diagram version gave them."""
    if not step.answers:
        return []
    labels = selectors.field_labels(instance.definition, step.element_id)
    return [
        (labels.get(name, name.replace("_", " ")), value) for name, value in step.answers.items()
    ]


def _instance_for_change(request: HttpRequest, instance_id: int) -> tuple[User, ProcessInstance]:
    user = _reader(request)
    if not services.may_run_processes(user):
        raise PermissionDenied("Your role can follow processes but not change them.")
    return user, selectors.instance_or_404(user, instance_id)


def _status_change(request: HttpRequest, instance_id: int, change: str) -> HttpResponse:
    user, instance = _instance_for_change(request, instance_id)
    form = ReasonForm(request.POST)
    try:
        if change == "resume":
            services.process_resume(by=user, instance=instance)
            messages.success(request, "The process runs again.")
        elif not form.is_valid():
            messages.error(request, "Say why, in a few words (up to 300 characters).")
        elif change == "pause":
            services.process_pause(by=user, instance=instance, reason=form.cleaned_data["reason"])
            messages.success(request, "The process is paused; its steps are off My day.")
        else:
            services.process_cancel(by=user, instance=instance, reason=form.cleaned_data["reason"])
            messages.success(request, "The process is cancelled.")
    except services.ProcessError as error:
        messages.error(request, str(error))
    return redirect("process_detail", instance.pk)


@login_required
@require_POST
def process_pause(request: HttpRequest, instance_id: int) -> HttpResponse:
    return _status_change(request, instance_id, "pause")


@login_required
@require_POST
def process_resume(request: HttpRequest, instance_id: int) -> HttpResponse:
    return _status_change(request, instance_id, "resume")


@login_required
@require_POST
def process_cancel(request: HttpRequest, instance_id: int) -> HttpResponse:
    return _status_change(request, instance_id, "cancel")


@login_required
@require_POST
def process_reassign(request: HttpRequest, instance_id: int) -> HttpResponse:
    user, instance = _instance_for_change(request, instance_id)
    form = ReassignForm(request.POST, user=user)
    if not form.is_valid():
        messages.error(request, "Choose a case manager or supervisor of the agency.")
    else:
        try:
            services.process_reassign(by=user, instance=instance, to=form.cleaned_data["owner"])
            messages.success(
                request, f"{form.cleaned_data['owner'].full_name} owns the process now."
            )
        except services.ProcessError as error:
            messages.error(request, str(error))
    return redirect("process_detail", instance.pk)


# The team's board ------------------------------------------------------------------------


@login_required
def process_board(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    key = request.GET.get("process", "")[:60]
    mine = request.GET.get("mine") == "1"
    steps = selectors.waiting_board(user=user, key=key, owner_id=user.pk if mine else None)
    audit_reads(actor=user, client_ids=sorted({s.client_id for s in steps}), section="processes")
    context = {
        "steps": steps,
        "truncated": len(steps) == selectors.BOARD_LIMIT,
        "may_configure": services.may_configure_processes(user),
        "definitions": selectors.definition_rows(user=user),
        "key": key,
        "mine": mine,
    }
    return render(request, "processes/board.html", context)


# Definitions (agency admins) ---------------------------------------------------------------


@login_required
def definition_list(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    problems: list[Any] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                uploaded = services.definition_upload(by=user, data=form.cleaned_data["file"])
            except DefinitionInvalid as invalid:
                problems = invalid.problems
            except services.ProcessError as error:
                form.add_error(None, str(error))
            else:
                definition = uploaded.definition
                if uploaded.changed:
                    messages.success(
                        request, f"{definition.name}: version {definition.version} is current."
                    )
                else:
                    messages.info(
                        request, f"{definition.name} is unchanged (version {definition.version})."
                    )
                return redirect("process_definition_list")
        status = 400
    context = {"rows": selectors.definition_rows(user=user), "form": form, "problems": problems}
    return render(request, "processes/definition_list.html", context, status=status)


@login_required
@require_POST
def definition_standard(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    results = services.standard_definitions_install(by=user)
    changed = [r.definition.name for r in results if r.changed]
    if changed:
        messages.success(request, f"Added or updated: {', '.join(changed)}.")
    else:
        messages.info(request, "The standard processes are already current.")
    return redirect("process_definition_list")


@login_required
def definition_detail(request: HttpRequest, definition_id: int) -> HttpResponse:
    user = _admin(request)
    definition = selectors.definition_or_404(user, definition_id)
    context = {
        "definition": definition,
        "versions": selectors.definition_versions(definition),
        "steps": selectors.definition_steps(definition),
    }
    return render(request, "processes/definition_detail.html", context)


@login_required
def definition_download(request: HttpRequest, definition_id: int) -> HttpResponse:
    user = _admin(request)
    definition = selectors.definition_or_404(user, definition_id)
    response = HttpResponse(definition.bpmn, content_type="application/xml; charset=utf-8")
    name = f"{definition.key}-v{definition.version}.bpmn"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def definition_retire(request: HttpRequest, definition_id: int) -> HttpResponse:
    user = _admin(request)
    definition = selectors.definition_or_404(user, definition_id)
    services.definition_retire(by=user, key=definition.key)
    messages.success(request, f"{definition.name} can no longer be started; running ones carry on.")
    return redirect("process_definition_list")
