"""The isolation check Schemathesis runs on every response: it hands the case to the check for
what the operation names (see the package's docstring)."""

from __future__ import annotations

import schemathesis

from contract.fuzzing import ledger, run
from contract.fuzzing.auth import account
from contract.fuzzing.isolation.body_ids import (
    TASK_ID_BODY_FIELDS,
    carries_labels,
    check_label_ids,
    check_task_ids,
)
from contract.fuzzing.isolation.bulk import check_bulk, is_bulk_operation
from contract.fuzzing.isolation.lists import check_list, is_list_operation
from contract.fuzzing.isolation.path_ids import (
    DISPOSABLES,
    check_disposable,
    check_task,
    id_parameter,
)
from contract.fuzzing.run import lock


def task_isolation(ctx: schemathesis.CheckContext, response: schemathesis.Response, case) -> None:
    """User B cannot read, change, delete or list user A's tasks, nor learn that they exist."""
    ledger.remember(response, case)
    for kind in DISPOSABLES:
        parameter = id_parameter(case, kind.prefix)
        if parameter is not None:
            check_disposable(case, parameter, kind)
            return
    if carries_labels(case):
        check_label_ids(case)
    parameter = id_parameter(case, "/tasks/")
    if case.operation.label in TASK_ID_BODY_FIELDS:
        base_url = run.base_url(case.operation)
        with lock:
            check_task_ids(case, account("A", base_url), account("B", base_url), base_url)
    if parameter is None and not is_list_operation(case) and not is_bulk_operation(case):
        return
    base_url = run.base_url(case.operation)
    owner, intruder = account("A", base_url), account("B", base_url)
    with lock:
        if is_list_operation(case):
            check_list(case, intruder, base_url)
        elif is_bulk_operation(case):
            check_bulk(case, owner, intruder, base_url)
        else:
            check_task(case, parameter, owner, intruder, base_url)
