"""POST /v1/extract: a news report in, draft events out; nothing stored."""

from fastapi import APIRouter, Depends

from app import errors
from app.auth.dependencies import require
from app.extract import service
from app.extract.schemas import ExtractRequest, ExtractResult
from app.http import StrictJSONRoute, json_only

router = APIRouter(route_class=StrictJSONRoute, prefix="/v1", tags=["extract"],
                   dependencies=[Depends(require("read"))], responses=errors.responses(*errors.COMMON))


@router.post("/extract", response_model=ExtractResult, response_model_exclude_none=True,
             responses=errors.responses(errors.MalformedJSON, errors.PayloadTooLarge, errors.UnsupportedMediaType),
             dependencies=[Depends(json_only)])
def extract_events(body: ExtractRequest) -> ExtractResult:
    """Draft events (the event contract) from a report, with the text each field came from; nothing is stored."""
    return service.extract(body.text, body.published_on, body.source, body.url)
