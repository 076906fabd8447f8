def fromjson(t): raise NotImplementedError
def load(p): raise NotImplementedError
