from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from vifsite.vif import kappa_page, services, thresholds
from vifsite.vif.models import (
    AgentKey,
    GateEvent,
    KappaPolicy,
    KappaPolicyChange,
    KappaSuggestion,
    Outcome,
    UnresolvedSample,
    Witness,
)

# One "API keys" section: the library registers its own APIKey model, which this site never uses (agents
# authenticate with AgentKey), so the admin would list two kinds of keys.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)

AGENT_KEY_DAYS = 90  # the expiry an agent key issued in the admin gets unless the admin changes it


@admin.register(AgentKey)
class AgentKeyAdmin(APIKeyModelAdmin):
    # rest_framework_api_key's admin has no annotations, so mypy takes its tuples' exact lengths as their types.
    list_display = [*APIKeyModelAdmin.list_display, "last_used_at", "owner",  # type: ignore[assignment]
                    "can_manage_surveys", "can_record_outcomes", "can_read_metrics"]
    list_filter = [*APIKeyModelAdmin.list_filter, "revoked", "can_manage_surveys",  # type: ignore[assignment]
                   "can_record_outcomes", "can_read_metrics"]
    actions = ["revoke_keys"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*super().get_readonly_fields(request, obj), "last_used_at")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new key expires in AGENT_KEY_DAYS days unless the admin changes or clears the date."""
        return {"expiry_date": timezone.now() + timedelta(days=AGENT_KEY_DAYS),
                **super().get_changeform_initial_data(request)}

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: Any) -> None:
        """Revoke at once (one UPDATE); a revoked key cannot be brought back, only replaced."""
        selected = queryset.count()
        revoked = queryset.filter(revoked=False).update(revoked=True)
        already = selected - revoked
        self.message_user(request, f"Revoked {revoked} key{'s' if revoked != 1 else ''}"
                          + (f"; {already} {'was' if already == 1 else 'were'} revoked already." if already else "."))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit rows: visible, never added, changed or deleted from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Witness)
class WitnessAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "operation", "model_id", "writer", "confidence_band", "kappa_gate_passed",
                    "task_criticality", "created_at", "retired_at"]
    list_filter = ["operation", "confidence_band", "kappa_gate_passed", "task_criticality"]
    search_fields = ["vif_id", "model_id", "writer", "prompt_hash", "output_hash"]
    show_full_result_count = False


@admin.register(Outcome)
class OutcomeAdmin(ReadOnlyAdmin):
    list_display = ["witness", "correct", "source", "recorded_by", "model_id", "criticality", "created_at"]
    list_filter = ["correct", "source", "criticality"]


@admin.register(GateEvent)
class GateEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "writer", "criticality", "domain", "confidence", "kappa", "passed"]
    list_filter = ["passed", "criticality"]

    @admin.display(description="confidence", ordering="confidence_micros")
    def confidence(self, obj: GateEvent) -> str:
        return f"{obj.confidence_micros / 1e6:.3f}"

    @admin.display(description="κ", ordering="threshold_micros")
    def kappa(self, obj: GateEvent) -> str:
        return thresholds.kappa_text(Decimal(obj.threshold_micros) / 1_000_000)


@admin.register(UnresolvedSample)
class UnresolvedSampleAdmin(ReadOnlyAdmin):
    list_display = ["witness", "reason", "recorded_by", "model_id", "criticality", "confidence_micros", "created_at"]
    list_filter = ["reason", "criticality"]


class KappaPolicyForm(forms.ModelForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=True,
                             help_text="Why κ changes: kept in the policy's history with who and when.")

    class Meta:
        model = KappaPolicy
        fields = ["criticality", "domain", "model_id", "threshold"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["reason"] = ""


class KappaPolicyChangeInline(admin.TabularInline):
    model = KappaPolicyChange
    fields = ("changed_at", "changed_by", "old_threshold", "new_threshold", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(KappaPolicy)
class KappaPolicyAdmin(admin.ModelAdmin):
    form = KappaPolicyForm
    list_display = ["key", "applies_to", "kappa", "updated_by", "updated_at", "reason"]
    list_filter = ["criticality", "model_id"]
    inlines = [KappaPolicyChangeInline]

    @admin.display(description="applies to")
    def applies_to(self, obj: KappaPolicy) -> str:
        return kappa_page.scope_words(obj.criticality, obj.domain, obj.model_id)

    @admin.display(description="κ", ordering="threshold")
    def kappa(self, obj: KappaPolicy) -> str:
        return thresholds.kappa_text(obj.threshold)

    def save_model(self, request: HttpRequest, obj: KappaPolicy, form: KappaPolicyForm, change: bool) -> None:
        services.kappa_policy_set(policy=obj, threshold=form.cleaned_data["threshold"],
                                  reason=form.cleaned_data["reason"], changed_by=f"user:{request.user.get_username()}")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a policy's history must stay; set another threshold instead


class ApplySuggestionForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=True,
                             help_text="Why this κ is applied: kept in the policy's history.")


@admin.register(KappaSuggestion)
class KappaSuggestionAdmin(ReadOnlyAdmin):
    # The error, its bound and the curve are on each suggestion's κ page (the last column).
    list_display = ["__str__", "sets", "current_kappa", "suggested_kappa", "samples", "coverage", "floor",
                    "why_none", "applied_at", "kappa_page"]
    list_filter = ["criticality", "model_id"]
    actions = ["apply_suggestions"]
    fields = ["kappa_page", "applies_to", "criticality", "domain", "model_id", "model_version", "suggested",
              "why_none", "floor", "unresolved", "certified_by", "evidence", "computed_at", "applied_at"]
    readonly_fields = ["kappa_page", "applies_to", "why_none", "floor", "unresolved", "certified_by", "computed_at"]

    @admin.display(description="why no κ")
    def why_none(self, obj: KappaSuggestion) -> Any:
        why = obj.evidence.get("why_none")
        if not isinstance(why, dict):
            return "—"
        short = kappa_page.WHY_NONE_WORDS.get(why.get("code", ""), why.get("code", ""))
        return format_html("<details><summary>{}</summary>{}</details>", short, why.get("message", ""))

    @admin.display(description="to a human whatever κ")
    def floor(self, obj: KappaSuggestion) -> Any:
        """(μ − α)/(1 − α) when the tier's base error μ exceeds its target α."""
        value = obj.evidence.get("floor")
        return "—" if not value else f"at least {value:.0%}"

    @admin.display(description="unresolved samples (counted as errors)")
    def unresolved(self, obj: KappaSuggestion) -> Any:
        return obj.evidence.get("unresolved", 0)

    @admin.display(description="certified by")
    def certified_by(self, obj: KappaSuggestion) -> Any:
        return ", ".join(obj.evidence.get("certified_by") or []) or "—"

    def get_queryset(self, request: HttpRequest) -> Any:
        # The κ in force for each row's scope, in the list's own query (not one query per row).
        return super().get_queryset(request).annotate(**kappa_page.policy_annotations())

    @admin.display(description="applies to")
    def applies_to(self, obj: KappaSuggestion) -> str:
        return kappa_page.scope_words(obj.criticality, obj.domain, obj.model_id)

    @admin.display(description="sets policy")
    def sets(self, obj: KappaSuggestion) -> str:
        """The one policy applying changes (created if absent): this model's, never the tier's for every model."""
        return kappa_page.policy_key(obj.criticality, obj.domain, obj.model_id)

    @admin.display(description="κ now")
    def current_kappa(self, obj: KappaSuggestion) -> Any:
        threshold = getattr(obj, "current_threshold", None)
        if threshold is None:
            return "—"
        key = kappa_page.policy_key(obj.criticality, getattr(obj, "current_domain", ""),
                                    getattr(obj, "current_model", ""))
        return f"{thresholds.kappa_text(threshold)} ({key})"

    @admin.display(description="suggested κ", ordering="suggested")
    def suggested_kappa(self, obj: KappaSuggestion) -> str:
        return "none" if obj.suggested is None else thresholds.kappa_text(obj.suggested)

    @admin.display(description="κ page")
    def kappa_page(self, obj: KappaSuggestion) -> str:
        return format_html('<a href="{}">curve, preview, apply</a>', reverse("kappa:suggestion", args=[obj.pk]))

    @admin.display(description="samples")
    def samples(self, obj: KappaSuggestion) -> Any:
        return obj.evidence.get("samples")

    @admin.display(description="error among accepted")
    def observed_error(self, obj: KappaSuggestion) -> Any:
        value = obj.evidence.get("observed_error")
        return "—" if value is None else f"{value:.3f}"

    @admin.display(description="upper bound")
    def upper_bound(self, obj: KappaSuggestion) -> Any:
        value = obj.evidence.get("upper_bound")
        return "—" if value is None else f"{value:.3f}"

    @admin.display(description="coverage")
    def coverage(self, obj: KappaSuggestion) -> Any:
        value = obj.evidence.get("coverage")
        return "—" if value is None else f"{value:.0%}"

    def has_apply_permission(self, request: HttpRequest) -> bool:
        """Applying a suggestion sets a κ policy: it takes the change permission on κ policies, not just
        the view permission on suggestions."""
        opts = KappaPolicy._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Django leaves an action it does not offer out of the list and the POST falls through to the page
        # without a word; a forged "apply" is refused here, saying why.
        if request.method == "POST" and request.POST.get("action") == "apply_suggestions" \
                and not self.has_apply_permission(request):
            self.message_user(request, "Applying a κ suggestion needs the permission to change κ policies.",
                              level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().changelist_view(request, extra_context)

    @admin.action(description="Apply the selected suggestions to their κ policies (asks for a reason)",
                  permissions=["apply"])
    def apply_suggestions(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if "apply" in request.POST:
            form = ApplySuggestionForm(request.POST)
            if form.is_valid():
                for suggestion in queryset:
                    try:
                        services.kappa_suggestion_apply(suggestion=suggestion, reason=form.cleaned_data["reason"],
                                                        changed_by=f"user:{request.user.get_username()}")
                    except Exception as exc:  # InputError: say which one could not be applied
                        self.message_user(request, f"{suggestion}: {exc}", level="error")
                    else:
                        self.message_user(request, f"Applied {suggestion}.")
                return None
        else:
            form = ApplySuggestionForm()
        rows = [{"suggestion": s, "scope": kappa_page.scope_words(s.criticality, s.domain, s.model_id),
                 "suggested": "none" if s.suggested is None else thresholds.kappa_text(s.suggested)}
                for s in queryset]
        return render(request, "admin/vif/kappasuggestion/apply.html",
                      {**self.admin_site.each_context(request), "form": form, "rows": rows,
                       "action": "apply_suggestions", "title": "Apply κ suggestions"})
