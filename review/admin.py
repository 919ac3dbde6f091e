"""Escalations in the admin: find them (filters, search), reassign or release them through the review rules
(review.services.escalations_assign), and export their decisions with the witnesses for audits. Nothing is
edited here: status changes only through the review services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from review import export, services
from review.models import REVIEWERS_GROUP, SENIOR_GROUP, Decision, Escalation


def reviewers() -> Any:
    """Who may be given an item: active people in a review group, or staff (review.services.is_reviewer)."""
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(is_staff=True) | Q(groups__name__in=[REVIEWERS_GROUP, SENIOR_GROUP])).distinct()
            .order_by("username"))


class ReassignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Reviewer",
                                      help_text="Open items only; never to the person whose agent submitted an item, "
                                                "nor to an item someone else has open on their screen.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = reviewers()  # type: ignore[attr-defined]


class OpenFilter(admin.SimpleListFilter):
    title = "open or closed"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "open (pending or in review)"), ("overdue", "open and overdue"), ("closed", "closed")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "open":
            return queryset.filter(status__in=Escalation.OPEN)
        if self.value() == "overdue":
            return queryset.filter(status__in=Escalation.OPEN, due_at__lt=timezone.now())
        if self.value() == "closed":
            return queryset.exclude(status__in=Escalation.OPEN)
        return queryset


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "criticality", "assignee", "model_of", "reasons_short", "due_at", "decided_at"]
    list_filter = [OpenFilter, "status", "criticality", ("assignee", admin.RelatedOnlyFieldListFilter), "domain"]
    list_select_related = ["assignee", "witness"]
    search_fields = ["=id", "submitted_by", "interpretation", "witness__model_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["reassign", "release", "export_csv", "export_jsonl"]
    fields = ["review_page", "status", "criticality", "domain", "assignee", "reserved_by", "reserved_until",
              "approvals_needed", "due_at", "hard_due_at", "created_at", "decided_at", "submitted_by", "witness",
              "why", "high_stakes", "interpretation", "version", "decisions_table", "history_table"]
    readonly_fields = ["review_page", "status", "criticality", "domain", "assignee", "reserved_by", "reserved_until",
                       "approvals_needed", "due_at", "hard_due_at", "created_at", "decided_at", "submitted_by",
                       "witness", "why", "high_stakes", "interpretation", "version", "decisions_table",
                       "history_table"]  # all of them: an item is never edited here

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # escalations come from the interpretation flow (review.services.interpretation_submit)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The actions need the change permission; an item itself is never edited here (its page is read-only).
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="model", ordering="witness__model_id")
    def model_of(self, obj: Escalation) -> str:  # not "model": ModelAdmin.model is the model class
        return obj.witness.model_id

    @admin.display(description="why")
    def reasons_short(self, obj: Escalation) -> str:
        labels = dict(Escalation.Reason.choices)
        return ", ".join(str(labels.get(r.get("code"), r.get("code"))) for r in obj.reasons or [])

    @admin.display(description="why it needs a human")
    def why(self, obj: Escalation) -> str:
        labels = dict(Escalation.Reason.choices)
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li><strong>{}</strong>: {}</li>",
            ((labels.get(r.get("code"), r.get("code")), r.get("why", "")) for r in obj.reasons or [])))

    @admin.display(description="decisions")
    def decisions_table(self, obj: Escalation) -> str:
        rows = obj.decisions.select_related("reviewer").order_by("created_at", "id")
        return _table(["when", "reviewer", "decision", "final", "comment"],
                      ((d.created_at.strftime("%Y-%m-%d %H:%M"), d.reviewer.get_username(), d.get_decision_display(),
                        "yes" if d.final else "first of two", d.comment) for d in rows)) or "none yet"

    @admin.display(description="history")
    def history_table(self, obj: Escalation) -> str:
        rows = obj.events.order_by("created_at", "id")
        return _table(["when", "who", "from", "to", "version", "note"],
                      ((e.created_at.strftime("%Y-%m-%d %H:%M"), e.actor, e.from_status or "—", e.to_status, e.version,
                        e.note) for e in rows))

    @admin.display(description="review page")
    def review_page(self, obj: Escalation) -> str:
        return format_html('<a href="{}">open item {} in the review queue</a>',
                           reverse("review:item", args=[obj.pk]), obj.pk)

    @admin.action(description="Reassign the selected items to a reviewer…", permissions=["change"])
    def reassign(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        form = ReassignForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            assignee = form.cleaned_data["assignee"]
            ids = list(queryset.values_list("pk", flat=True))
            # The first approver of a critical item cannot give the second approval: do not hand it back to them.
            first_approvers = set(Decision.objects.filter(escalation_id__in=ids, decision=Decision.Kind.APPROVE,
                                                          final=False, reviewer=assignee)
                                  .values_list("escalation_id", flat=True))
            results = [{"id": pk, "done": False,
                        "message": f"{assignee.get_username()} gave its first approval; the second must come from "
                                   "someone else"} for pk in ids if pk in first_approvers]
            results += services.escalations_assign(escalation_ids=[pk for pk in ids if pk not in first_approvers],
                                                   reviewer=request.user, assignee=assignee)
            self._report(request, sorted(results, key=lambda r: r["id"]))
            critical = queryset.filter(criticality="critical", status__in=Escalation.OPEN).exists()
            if critical and not assignee.groups.filter(name=SENIOR_GROUP).exists():
                self.message_user(request, f"{assignee.get_username()} is not a senior reviewer: critical items "
                                           "usually go to senior reviewers first.", level=messages.WARNING)
            return None
        return render(request, "admin/review/escalation/reassign.html", {
            **self.admin_site.each_context(request), "title": "Reassign escalations", "form": form,
            "items": queryset.select_related("assignee"), "opts": self.model._meta,
            "action": "reassign", "select_across": request.POST.get("select_across", "0")})

    @admin.action(description="Release the selected items (unassigned, back to anyone)", permissions=["change"])
    def release(self, request: HttpRequest, queryset: Any) -> None:
        self._report(request, services.escalations_assign(escalation_ids=list(queryset.values_list("pk", flat=True)),
                                                          reviewer=request.user, assignee=None))

    def _report(self, request: HttpRequest, results: list[dict[str, Any]]) -> None:
        from review.views import bulk_report

        if not results:
            return
        level = messages.SUCCESS if all(r["done"] for r in results) else messages.WARNING
        self.message_user(request, bulk_report(results), level=level)

    @admin.action(description="Export the selected items' decisions with their witnesses (CSV)",
                  permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        return self._export(export.as_csv(export.decision_rows(export.decisions_of(queryset))), "csv",
                            "text/csv; charset=utf-8")

    @admin.action(description="Export the selected items' decisions with their witnesses (JSON Lines)",
                  permissions=["view"])
    def export_jsonl(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        return self._export(export.as_jsonl(export.decision_rows(export.decisions_of(queryset))), "jsonl",
                            "application/jsonl; charset=utf-8")

    @staticmethod
    def _export(lines: Any, extension: str, content_type: str) -> HttpResponse:
        # Built whole: under ASGI Django reads a synchronous stream into memory anyway (and warns each time).
        response = HttpResponse("".join(lines), content_type=content_type)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="decisions-{stamp}.{extension}"'
        return response


def _table(header: list[str], rows: Any) -> str:
    body = format_html_join("", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((v,) for v in row)),)
                                                for row in rows))
    if not body:
        return ""
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
                       format_html_join("", '<th scope="col">{}</th>', ((h,) for h in header)), body)
