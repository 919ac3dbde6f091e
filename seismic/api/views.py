from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from seismic import services, tools
from seismic.api.permissions import CanManageSurveys
from seismic.api.serializers import (
    AnomaliesInputSerializer,
    AuditInputSerializer,
    ClaimInputSerializer,
    CompareInputSerializer,
    HypothesisInputSerializer,
    SectionImageQuerySerializer,
    SectionOutputSerializer,
    SectionQuerySerializer,
    StructuredQuerySerializer,
    SurveyImportInputSerializer,
    SurveyImportOutputSerializer,
    SurveyOutputSerializer,
    SurveyRegisterInputSerializer,
    section_number_parse,
    section_payload,
)
from seismic.descriptions import TOOLS
from seismic.models import Survey, SurveyImport
from vifsite.api import ApiView
from vifsite.errors import NotFound
from vifsite.vif.auth import principal_of

_SECTION_PARAMS = [
    OpenApiParameter("section_type", str, OpenApiParameter.PATH, enum=list(services.SECTION_KINDS)),
    OpenApiParameter("section_number", float, OpenApiParameter.PATH),
]


class SurveyListApi(ApiView):
    @extend_schema(operation_id="list_surveys", description=TOOLS["list_surveys"].description,
                   responses=SurveyOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(SurveyOutputSerializer(Survey.objects.all(), many=True).data)


class SurveyDetailApi(ApiView):
    @extend_schema(operation_id="get_survey", description=TOOLS["get_survey"].description,
                   responses=SurveyOutputSerializer)
    def get(self, request: Request, survey_id: int) -> Response:
        return Response(SurveyOutputSerializer(services.survey_get(survey_id=survey_id)).data)


class SectionApi(ApiView):
    @extend_schema(operation_id="extract_section", description=TOOLS["extract_section"].description,
                   parameters=[SectionQuerySerializer, *_SECTION_PARAMS], responses=SectionOutputSerializer)
    def get(self, request: Request, survey_id: int, section_type: str, section_number: str) -> Response:
        query = SectionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        survey = services.survey_get(survey_id=survey_id)
        section, extraction = services.section_extract(
            survey=survey, kind=section_type, number=section_number_parse(section_number), ranges=query.ranges(),
            principal=principal_of(request.user))
        image_url = reverse("api:seismic:section-image", kwargs={
            "survey_id": survey.pk, "section_type": section_type, "section_number": section_number})
        if request.query_params:
            image_url += "?" + request.query_params.urlencode()
        return Response({**section_payload(survey=survey, section=section, extraction=extraction),
                         "image_url": request.build_absolute_uri(image_url)})


class SectionImageApi(ApiView):
    @extend_schema(operation_id="get_section_image", description=TOOLS["get_section_image"].description,
                   parameters=[SectionImageQuerySerializer, *_SECTION_PARAMS],
                   responses={(200, "image/png"): bytes})
    def get(self, request: Request, survey_id: int, section_type: str, section_number: str) -> HttpResponse:
        query = SectionImageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        survey = services.survey_get(survey_id=survey_id)
        section = services.section_read(survey=survey, kind=section_type,
                                        number=section_number_parse(section_number),
                                        ranges=query.ranges())
        png = services.section_png(section=section, clip_percentile=query.validated_data["clip"])
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "private, max-age=3600"
        return response


class SurveyImportCreateApi(ApiView):
    permission_classes = [CanManageSurveys]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="import_segy", request={"multipart/form-data": SurveyImportInputSerializer},
                   responses={202: SurveyImportOutputSerializer},
                   description="Upload a SEG-Y file; it is checked, then imported with OpenVDS in the background. "
                               "Poll the returned import until its status is succeeded (its survey is then set) "
                               "or failed (its error says what is wrong; nothing is registered).")
    def post(self, request: Request) -> Response:
        data = SurveyImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        upload, name, description = values.pop("file"), values.pop("name"), values.pop("description")
        job = services.survey_import_queue(upload=upload, name=name, description=description, options=values,
                                           created_by=principal_of(request.user))
        job.refresh_from_db()
        return Response(SurveyImportOutputSerializer(job).data, status=202)


class SurveyImportDetailApi(ApiView):
    permission_classes = [CanManageSurveys]

    @extend_schema(operation_id="get_survey_import", responses=SurveyImportOutputSerializer)
    def get(self, request: Request, import_id: int) -> Response:
        try:
            job = SurveyImport.objects.get(pk=import_id)
        except SurveyImport.DoesNotExist:
            raise NotFound(f"No survey import with id {import_id}.") from None
        return Response(SurveyImportOutputSerializer(job).data)


class SurveyRegisterApi(ApiView):
    permission_classes = [CanManageSurveys]

    @extend_schema(operation_id="register_vds", request=SurveyRegisterInputSerializer,
                   responses={201: SurveyOutputSerializer},
                   description="Register an existing VDS (a local file under an allowed folder, or a cloud URL) "
                               "as a survey without importing it.")
    def post(self, request: Request) -> Response:
        data = SurveyRegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        survey = services.survey_register_vds(created_by=principal_of(request.user), **data.validated_data)
        return Response(SurveyOutputSerializer(survey).data, status=201)


class ToolManifestApi(ApiView):
    @extend_schema(operation_id="tool_manifest", responses=dict,
                   description="The agent tools with their descriptions and JSON-schema parameters, in the "
                               "function-calling shape agents load directly.")
    def get(self, request: Request) -> Response:
        return Response({"tools": [tool.manifest() for tool in TOOLS.values()]})


class ValidateClaimApi(ApiView):
    @extend_schema(operation_id="validate_amplitude_claim", request=ClaimInputSerializer, responses=dict,
                   description=TOOLS["validate_amplitude_claim"].description)
    def post(self, request: Request, survey_id: int) -> Response:
        data = ClaimInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if not k.endswith("_range")}
        return Response(tools.claim_validate(survey_id=survey_id, window=data.ranges(),
                                             principal=principal_of(request.user), **values))


class AnomaliesApi(ApiView):
    @extend_schema(operation_id="detect_amplitude_anomalies", request=AnomaliesInputSerializer, responses=dict,
                   description=TOOLS["detect_amplitude_anomalies"].description)
    def post(self, request: Request, survey_id: int) -> Response:
        data = AnomaliesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if not k.endswith("_range")}
        return Response(tools.anomalies_detect(survey_id=survey_id, ranges=data.ranges(),
                                               principal=principal_of(request.user), **values))


class VerifyHypothesisApi(ApiView):
    @extend_schema(operation_id="verify_feature_hypothesis", request=HypothesisInputSerializer, responses=dict,
                   description=TOOLS["verify_feature_hypothesis"].description)
    def post(self, request: Request, survey_id: int) -> Response:
        data = HypothesisInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return Response(tools.hypothesis_verify(survey_id=survey_id, feature_type=values["feature_type"],
                                                characteristics=values["characteristics"],
                                                principal=principal_of(request.user), **values["location"]))


class CompareApi(ApiView):
    @extend_schema(operation_id="compare_to_reference", request=CompareInputSerializer, responses=dict,
                   description=TOOLS["compare_to_reference"].description)
    def post(self, request: Request, survey_id: int) -> Response:
        data = CompareInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if not k.endswith("_range")}
        return Response(tools.sections_compare(survey_id=survey_id, ranges=data.ranges(),
                                               reference_ranges=data.ranges("reference_"),
                                               principal=principal_of(request.user), **values))


class AuditApi(ApiView):
    @extend_schema(operation_id="audit_interpretation", request=AuditInputSerializer, responses=dict,
                   description=TOOLS["audit_interpretation"].description)
    def post(self, request: Request) -> Response:
        data = AuditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(tools.interpretation_audit(principal=principal_of(request.user), **data.validated_data))


class StructuredAnalysisApi(ApiView):
    @extend_schema(operation_id="get_structured_analysis_template", parameters=[StructuredQuerySerializer],
                   responses=dict, description=TOOLS["get_structured_analysis_template"].description)
    def get(self, request: Request, survey_id: int) -> Response:
        query = StructuredQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(tools.structured_template(survey_id=survey_id, principal=principal_of(request.user),
                                                  **query.validated_data))

    @extend_schema(operation_id="submit_structured_analysis", request=dict, responses=dict,
                   description=TOOLS["submit_structured_analysis"].description)
    def post(self, request: Request, survey_id: int) -> Response:
        # The manifest's shape ({"analysis": {...}}, as over MCP) or the filled analysis itself.
        filled = request.data
        if isinstance(filled, dict) and set(filled) == {"analysis"}:
            filled = filled["analysis"]
        return Response(tools.structured_validate(survey_id=survey_id, filled=filled,
                                                  principal=principal_of(request.user)))
