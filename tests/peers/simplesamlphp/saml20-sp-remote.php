<?php
/*
 * Dynamic saml20-sp-remote metadata for the Gatehouse test IdP.
 * Copied into STATE_DIR/metadata/ by `start`; evaluated on EVERY request
 * (SimpleSAMLphp's flat-file metadata handler include()s it), so SP metadata
 * dropped into STATE_DIR/sp-metadata/ while the server runs is picked up at once.
 *
 *   STATE_DIR/sp-metadata/NAME.xml   SP metadata (md:EntityDescriptor with SPSSODescriptor)
 *   STATE_DIR/sp-metadata/NAME.json  optional: JSON object of sp-remote options,
 *                                    merged last (a null value removes the option)
 *
 * Priority for each option: NAME.json > defaults below > parsed XML, except
 * NameIDFormat: NAME.json > first md:NameIDFormat of the XML (if persistent,
 * emailAddress or transient) > persistent.
 */

$metadata = [];

$gatehouseSpDir = dirname(__DIR__) . '/sp-metadata';
$gatehouseNameIdFormats = [
    'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
];
$gatehouseDefaults = [
    'saml20.sign.assertion' => true,
    'saml20.sign.response' => true,
    'assertion.encryption' => false,
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
];

$gatehouseFiles = glob($gatehouseSpDir . '/*.xml') ?: [];
sort($gatehouseFiles);
clearstatcache();
foreach ($gatehouseFiles as $gatehouseFile) {
    try {
        $gatehouseParsed = \SimpleSAML\Metadata\SAMLParser::parseDescriptorsFile($gatehouseFile);
    } catch (\Exception $e) {
        \SimpleSAML\Logger::error('sp-metadata: cannot parse ' . $gatehouseFile . ': ' . $e->getMessage());
        continue;
    }
    $gatehouseSidecar = [];
    $gatehouseJson = substr($gatehouseFile, 0, -4) . '.json';
    if (is_file($gatehouseJson)) {
        $decoded = json_decode((string) file_get_contents($gatehouseJson), true);
        if (is_array($decoded)) {
            $gatehouseSidecar = $decoded;
        } else {
            \SimpleSAML\Logger::error('sp-metadata: ' . $gatehouseJson . ' is not a JSON object; ignored');
        }
    }
    foreach ($gatehouseParsed as $gatehouseEntityId => $gatehouseParser) {
        $sp = $gatehouseParser->getMetadata20SP();
        if ($sp === null) {
            continue; // no SPSSODescriptor
        }
        unset($sp['entityDescriptor']);
        if (!isset($sp['NameIDFormat']) || !in_array($sp['NameIDFormat'], $gatehouseNameIdFormats, true)) {
            $sp['NameIDFormat'] = $gatehouseNameIdFormats[0];
        }
        $sp = array_merge($sp, $gatehouseDefaults);
        foreach ($gatehouseSidecar as $k => $v) {
            if ($v === null) {
                unset($sp[$k]);
            } else {
                $sp[$k] = $v;
            }
        }
        $sp['entityid'] = $gatehouseEntityId;
        $metadata[$gatehouseEntityId] = $sp;
    }
}
unset($gatehouseSpDir, $gatehouseNameIdFormats, $gatehouseDefaults, $gatehouseFiles, $gatehouseFile,
    $gatehouseParsed, $gatehouseSidecar, $gatehouseJson, $decoded, $gatehouseEntityId, $gatehouseParser, $sp, $k, $v, $e);
