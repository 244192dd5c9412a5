from taskapi.settings.base import *  # noqa: F403
from taskapi.settings.base import REST_FRAMEWORK

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_RENDERER_CLASSES": ["bench.experiments.orjson_drf.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["bench.experiments.orjson_drf.ORJSONParser"],
}
