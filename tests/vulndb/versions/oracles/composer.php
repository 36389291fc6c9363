<?php
// Oracle: Composer's VersionParser::normalize (Debian's php-composer-semver), then PHP's
// version_compare. One version a line prints 1, 0 (invalid) or b (a branch); two, the order.
require '/usr/share/php/Composer/Semver/autoload.php';
$parser = new Composer\Semver\VersionParser();
while (($line = fgets(STDIN)) !== false) {
    $fields = explode("\t", rtrim($line, "\n"));
    try {
        $norm = array_map(fn ($v) => $parser->normalize($v), $fields);
    } catch (UnexpectedValueException $e) {
        echo "0\n";
        continue;
    }
    if (count($norm) == 1) {
        $branch = str_starts_with($norm[0], 'dev-') || str_contains($norm[0], '9999999');
        echo $branch ? "b\n" : "1\n";
        continue;
    }
    echo version_compare($norm[0], $norm[1]), "\n";
}
