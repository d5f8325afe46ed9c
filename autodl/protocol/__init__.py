"""The run folder, in one place: every file name, the typed records, the statuses.

Ingestion, the Docker runner, scoring, the challenge runner and the reports read and
write a run's files only through this package, and the 2019 programs' files are
byte-identical to ours, so any producer or consumer of the format is welcome:

- :mod:`.names`: the file and folder names (``start.txt``, ``<task>.predict_<k>``,
  ``end.txt``, ``ingestion.json``, ``scores.txt``/``scores.json``,
  ``learning_curve.json``, ``result.json``) and :class:`RunFolder`, a challenge run's
  layout;
- :mod:`.predictions`: ``start.txt``, predictions and ``end.txt`` (the 2019 bytes),
  solutions;
- :mod:`.scores`: the score folder's files and :class:`ScoreRecord`;
- :mod:`.records`: :class:`IngestionRecord` (``ingestion.json``) and :class:`RunResult`
  (``result.json``);
- :mod:`.status`: :class:`Status`, every status with its meaning, success and exit code;
- :mod:`.atomic`: write aside, then rename; the JSON and YAML readers.

Nothing here imports ingestion or scoring code.
"""

from autodl.protocol.atomic import (
    ProtocolError,
    atomic_file,
    atomic_write,
    is_temporary,
    read_json,
    write_json,
)
from autodl.protocol.names import (
    CODALAB_DIR,
    CODALAB_SETS,
    DETAILED_RESULTS_HTML,
    END_FILE,
    INGESTION_FILE,
    LEADERBOARD_CSV,
    LEADERBOARD_HTML,
    LEARNING_CURVE_JSON,
    REPORT_FILE,
    RESULT_FILE,
    RESULTS_CSV,
    RESULTS_JSON,
    SCORES_JSON,
    SCORES_TXT,
    START_FILE,
    RunFolder,
    learning_curve_png,
    parse_prediction_name,
    prediction_name,
)
from autodl.protocol.predictions import (
    EndInfo,
    StartInfo,
    append_prediction_time,
    find_solution,
    format_number,
    format_prediction,
    list_predictions,
    read_end,
    read_matrix,
    read_start,
    scan_predictions,
    write_end,
    write_prediction,
    write_start,
)
from autodl.protocol.records import (
    IngestionRecord,
    RunResult,
    read_ingestion_record,
    read_result,
    write_ingestion_record,
    write_result,
)
from autodl.protocol.scores import (
    ScoreRecord,
    read_learning_curve,
    read_score_record,
    read_scores,
    write_learning_curve,
    write_scores_json,
    write_scores_txt,
)
from autodl.protocol.status import SUCCESS, USAGE_EXIT_CODE, Status

__all__ = [
    "CODALAB_DIR",
    "CODALAB_SETS",
    "DETAILED_RESULTS_HTML",
    "END_FILE",
    "INGESTION_FILE",
    "LEADERBOARD_CSV",
    "LEADERBOARD_HTML",
    "RESULTS_CSV",
    "RESULTS_JSON",
    "LEARNING_CURVE_JSON",
    "REPORT_FILE",
    "RESULT_FILE",
    "SCORES_JSON",
    "SCORES_TXT",
    "START_FILE",
    "SUCCESS",
    "USAGE_EXIT_CODE",
    "EndInfo",
    "IngestionRecord",
    "ProtocolError",
    "RunFolder",
    "RunResult",
    "ScoreRecord",
    "StartInfo",
    "Status",
    "append_prediction_time",
    "atomic_file",
    "atomic_write",
    "find_solution",
    "format_number",
    "format_prediction",
    "is_temporary",
    "learning_curve_png",
    "list_predictions",
    "parse_prediction_name",
    "prediction_name",
    "read_end",
    "read_ingestion_record",
    "read_json",
    "read_learning_curve",
    "read_matrix",
    "read_result",
    "read_score_record",
    "read_scores",
    "read_start",
    "scan_predictions",
    "write_end",
    "write_ingestion_record",
    "write_json",
    "write_learning_curve",
    "write_prediction",
    "write_result",
    "write_scores_json",
    "write_scores_txt",
    "write_start",
]
