from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from seismic import services
from seismic.models import Extraction, Survey, SurveyImport
from vifsite.errors import InputError


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "inline_count", "crossline_count", "sample_count", "domain", "live_traces", "created_at"]
    search_fields = ["name"]
    readonly_fields = [f.name for f in Survey._meta.fields if f.name not in ("name", "description")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # surveys come from an import or a registration, never typed in


class SurveyImportForm(forms.ModelForm):
    file = forms.FileField(help_text="A SEG-Y file.")
    inline_byte = forms.IntegerField(initial=189, min_value=1, max_value=237)
    crossline_byte = forms.IntegerField(initial=193, min_value=1, max_value=237)
    two_d = forms.BooleanField(required=False, label="2D line")
    cdp_byte = forms.IntegerField(initial=21, min_value=1, max_value=237)
    sample_unit = forms.ChoiceField(choices=[(u, u) for u in services.SAMPLE_UNITS], initial="ms")

    class Meta:
        model = SurveyImport
        fields = ["name", "description"]


@admin.register(SurveyImport)
class SurveyImportAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "progress_percent", "attempts", "survey", "created_at", "finished_at", "error"]
    list_filter = ["status"]

    @admin.display(description="progress")
    def progress_percent(self, job: SurveyImport) -> str:
        return f"{job.progress:.0f} %"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SurveyImportForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in SurveyImport._meta.fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None or request.method == "GET"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        options = {key: data[key] for key in ("inline_byte", "crossline_byte", "two_d", "cdp_byte", "sample_unit")}
        try:
            job = services.survey_import_queue(upload=data["file"], name=data["name"],
                                               description=data.get("description", ""), options=options,
                                               created_by=f"user:{request.user.username}")
        except InputError as exc:
            request.survey_import_error = exc.message
            return
        obj.pk = job.pk

    def response_add(self, request, obj, post_url_continue=None):
        error = getattr(request, "survey_import_error", None)
        if error:
            messages.error(request, error)
            return HttpResponseRedirect(reverse("admin:seismic_surveyimport_add"))
        messages.success(request, "The file is queued for import; this page shows its progress.")
        return HttpResponseRedirect(reverse("admin:seismic_surveyimport_change", args=[obj.pk]))

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(Extraction)
class ExtractionAdmin(admin.ModelAdmin):
    list_display = ["id", "survey", "kind", "number", "principal", "created_at"]
    list_filter = ["kind", "survey"]
    readonly_fields = [f.name for f in Extraction._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
