from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from rest_framework_api_key.admin import APIKeyModelAdmin

from vifsite.vif import services
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


@admin.register(AgentKey)
class AgentKeyAdmin(APIKeyModelAdmin):
    # rest_framework_api_key's admin has no annotations, so mypy takes its tuples' exact lengths as their types.
    list_display = [*APIKeyModelAdmin.list_display, "owner", "can_manage_surveys",  # type: ignore[assignment]
                    "can_record_outcomes", "can_read_metrics"]
    list_filter = [*APIKeyModelAdmin.list_filter, "can_manage_surveys",  # type: ignore[assignment]
                   "can_record_outcomes", "can_read_metrics"]


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
    list_display = ["created_at", "writer", "criticality", "domain", "confidence_micros", "threshold_micros", "passed"]
    list_filter = ["passed", "criticality"]


@admin.register(UnresolvedSample)
class UnresolvedSampleAdmin(ReadOnlyAdmin):
    list_display = ["witness", "reason", "recorded_by", "model_id", "criticality", "confidence_micros", "created_at"]
    list_filter = ["reason", "criticality"]


class KappaPolicyForm(forms.ModelForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=True,
                             help_text="Why κ changes: kept in the policy's history with who and when.")

    class Meta:
        model = KappaPolicy
        fields = ["criticality", "domain", "threshold"]

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
    list_display = ["key", "threshold", "updated_by", "updated_at", "reason"]
    inlines = [KappaPolicyChangeInline]

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
    list_display = ["__str__", "current_kappa", "suggested", "samples", "observed_error", "upper_bound", "coverage",
                    "floor", "why_none", "computed_at", "applied_at"]
    list_filter = ["criticality", "model_id"]
    actions = ["apply_suggestions"]
    fields = ["criticality", "domain", "model_id", "model_version", "suggested", "why_none", "floor", "unresolved",
              "certified_by", "evidence", "computed_at", "applied_at"]
    readonly_fields = ["why_none", "floor", "unresolved", "certified_by", "computed_at"]

    @admin.display(description="why no κ")
    def why_none(self, obj: KappaSuggestion) -> Any:
        why = obj.evidence.get("why_none")
        return why.get("message", why.get("code")) if isinstance(why, dict) else "—"

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

    @admin.display(description="current κ")
    def current_kappa(self, obj: KappaSuggestion) -> Any:
        policy = KappaPolicy.objects.filter(criticality=obj.criticality, domain=obj.domain).first()
        return policy.threshold if policy else "—"

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
        return render(request, "admin/vif/kappasuggestion/apply.html",
                      {**self.admin_site.each_context(request), "form": form, "suggestions": queryset,
                       "action": "apply_suggestions", "title": "Apply κ suggestions"})
