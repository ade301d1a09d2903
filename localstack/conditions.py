"""CloudFormation conditions, evaluated for given parameter values: what
compat.py needs to tell which resources a LocalStack deploy creates, and
stack.py to resolve a function's environment as deployed. Fn::Equals,
Fn::Not, Fn::And, Fn::Or, Condition and Ref to parameters, as the
template's Conditions use them."""


class ConditionError(Exception):
    """A condition expression this module cannot evaluate."""


def evaluate(expr, conditions: dict, params: dict, seen=()):
    """The value of a condition expression for params."""
    if isinstance(expr, dict) and len(expr) == 1:
        (fn, arg), = expr.items()
        if fn == "Condition":
            return holds(arg, conditions, params, seen)
        if fn == "Fn::Not":
            return not evaluate(arg[0], conditions, params, seen)
        if fn == "Fn::And":
            return all(evaluate(a, conditions, params, seen) for a in arg)
        if fn == "Fn::Or":
            return any(evaluate(a, conditions, params, seen) for a in arg)
        if fn == "Fn::Equals":
            a, b = (evaluate(x, conditions, params, seen) for x in arg)
            return str(a) == str(b)
        if fn == "Ref":
            if arg not in params:
                raise ConditionError(f"condition refers to {arg}, which has no value")
            return params[arg]
    if isinstance(expr, (str, int, float, bool)):
        return expr
    raise ConditionError(f"cannot evaluate condition expression {expr!r}")


def holds(name: str, conditions: dict, params: dict, seen=()) -> bool:
    """Whether the template's condition name holds for params."""
    if name in seen:
        raise ConditionError(f"condition {name} refers to itself")
    if name not in conditions:
        raise ConditionError(f"no condition {name}")
    return bool(evaluate(conditions[name], conditions, params, seen + (name,)))
